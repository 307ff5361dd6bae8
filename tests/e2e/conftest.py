"""Write each failure of the browser/hub tests to build/e2e/failures.txt as it happens
(a long CI run shows what failed before it ends, next to the screenshots)."""

from pathlib import Path

BUILD = Path(__file__).resolve().parents[2] / "build" / "e2e"


def pytest_runtest_logreport(report):
    if report.failed and "e2e" in report.nodeid:
        BUILD.mkdir(parents=True, exist_ok=True)
        text = getattr(report.longrepr, "reprcrash", None)
        message = text.message if text is not None else str(report.longrepr)[-2000:]
        with open(BUILD / "failures.txt", "a") as f:
            f.write(f"{report.nodeid} ({report.when}): {message}\n")

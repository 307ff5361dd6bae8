"""The two-command setup: pins agree, CI runs the README's test command."""

import re
from pathlib import Path

from course_utils.doctor import pinned_versions

ROOT = Path(__file__).resolve().parents[1]


def _env_yml_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s#]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_environment_yml_carries_the_same_pins_as_requirements():
    req = {**pinned_versions(ROOT / "requirements.txt"), **pinned_versions(ROOT / "classroom" / "requirements.txt")}
    env = _env_yml_pins()
    assert req, "requirements.txt has no pins"
    assert env == req, f"differences: { {k: (req.get(k), env.get(k)) for k in set(req) | set(env) if req.get(k) != env.get(k)} }"


def test_environment_yml_pins_python_311():
    assert re.search(r"^\s*-\s*python=3\.11\s*$", (ROOT / "environment.yml").read_text(), re.M)


def test_required_packages_are_pinned_exactly():
    pins = pinned_versions(ROOT / "requirements.txt")
    for name in ["torch", "torchvision", "jupyterlab", "ipywidgets", "matplotlib", "numpy", "nbval", "tqdm", "av"]:
        assert name in pins, f"{name} is not pinned"
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_installed_versions_match_the_pins():
    import importlib.metadata as md

    for req in (ROOT / "requirements.txt", ROOT / "classroom" / "requirements.txt"):
        for name, version in pinned_versions(req).items():
            assert md.version(name).split("+")[0] == version, name


def test_readme_quickstart_has_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test( \|\| test_status=\$\?)?$", ci, re.M), "CI must run the README's test command"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: lint test-unit test-notebooks test-builds$", makefile, re.M)
    assert "--nbval" in makefile and "notebooks" in makefile

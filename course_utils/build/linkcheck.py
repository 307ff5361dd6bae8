"""Checks of a built site or deck: internal links resolve, nothing loads from outside.

Used by the tests (and handy by hand: ``python -m course_utils.build.linkcheck build/site``).
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)""", re.I)
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'");\s]+)""", re.I)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []  # navigations (a href)
        self.loads: list[tuple[str, str]] = []  # (what, url) the browser loads
        self.ids: set[str] = set()
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.loads.append(("script", a["src"]))
        elif tag == "link" and a.get("href"):
            self.loads.append((f"link rel={a.get('rel')}", a["href"]))
        elif tag in ("img", "iframe", "audio", "video", "source") and a.get("src"):
            self.loads.append((tag, a["src"]))
        if a.get("style"):
            self.styles.append(a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _css_refs(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return CSS_URL.findall(css) + CSS_IMPORT.findall(css)


def check(root: Path) -> list[str]:
    """Problems found under ``root``: broken internal links or anchors, outside loads."""
    root = Path(root)
    pages = {p: _Page() for p in sorted(root.rglob("*.html"))}
    for p, parser in pages.items():
        parser.feed(p.read_text(encoding="utf-8"))
    problems = []
    for p, parser in pages.items():
        rel = p.relative_to(root)
        for what, url in parser.loads:
            if EXTERNAL.match(url):
                problems.append(f"{rel}: {what} loads an outside URL {url}")
            elif not url.startswith(("data:", "#")) and not (p.parent / unquote(urlsplit(url).path)).exists():
                problems.append(f"{rel}: {what} {url} does not exist")
        for css in parser.styles:
            for url in _css_refs(css):
                if EXTERNAL.match(url):
                    problems.append(f"{rel}: a style loads an outside URL {url}")
        for href in parser.links:
            if EXTERNAL.match(href) or href.startswith(("mailto:", "javascript:", "data:")):
                continue
            parts = urlsplit(href)
            target = (p.parent / unquote(parts.path)).resolve() if parts.path else p
            if not target.exists():
                problems.append(f"{rel}: link {href} -> missing file")
                continue
            frag = parts.fragment  # browsers try the fragment as written, then percent-decoded
            ids = pages[target].ids if target in pages else set()
            if frag and target.suffix == ".html" and target in pages and frag not in ids and unquote(frag) not in ids:
                problems.append(f"{rel}: link {href} -> no element with id {frag!r}")
    for css_file in sorted(root.rglob("*.css")):
        for url in _css_refs(css_file.read_text(encoding="utf-8")):
            if EXTERNAL.match(url):
                problems.append(f"{css_file.relative_to(root)}: loads an outside URL {url}")
    return problems


if __name__ == "__main__":
    found = check(Path(sys.argv[1]))
    print("\n".join(found) or "no problems")
    sys.exit(1 if found else 0)

"""``build site``: the course as a static, offline HTML site (``build/site/index.html``).

* ``index.html``: the lesson table (sections, exercises, figures, widgets, time budget);
* ``lessons/<lesson>.html``: each notebook as nbconvert renders it (figures inline, every
  widget replaced by its static fallback), with previous / next / index navigation;
* ``questions/``: the question bank by topic and by difficulty, in English (``en/``) and
  Chinese (``zh/``), answers behind a click (``<details>``). Read through
  :func:`course_utils.quiz.load_bank`; a question type the site does not know is rendered
  generically (question, answer, explanation, rubric list, code, solution if present);
* ``search.html``: a search box over lesson sections and questions, client side
  (``assets/search-index.js`` + ``assets/search.js``; no server, works from ``file://``).

Nothing on a page loads from outside the site (MathJax is vendored, see :mod:`assets`).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from course_utils.build import assets, common

TEMPLATES = Path(__file__).parent / "templates"
COURSE_TITLE = "Video Deep Learning from First Principles"
DIFFICULTY = {1: ("easy", "简单"), 2: ("medium", "中等"), 3: ("hard", "困难")}
LANGS = {"en": "English", "zh": "中文"}
UI = {
    "en": {"answer": "Show the answer", "explanation": "Why", "rubric": "Rubric", "solution": "Reference solution",
           "fix": "Fixed code", "choices": "Choices", "refs": "In the course", "topic": "Topic",
           "difficulty": "Difficulty", "questions": "Question bank", "starter": "Starter code"},
    "zh": {"answer": "显示答案", "explanation": "解析", "rubric": "评分要点", "solution": "参考答案",
           "fix": "修正后的代码", "choices": "选项", "refs": "课程中的位置", "topic": "主题",
           "difficulty": "难度", "questions": "题库", "starter": "起始代码"},
}

SITE_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
.course-page { max-width: 1100px; margin: 0 auto; padding: 1em 1.5em; line-height: 1.5; }
nav.course-nav { display: flex; flex-wrap: wrap; gap: 1em; align-items: center; padding: 0.6em 1em;
  border-bottom: 1px solid #ddd; background: #f7f7f7; font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
nav.course-nav .spacer { flex: 1; }
nav.course-nav form { margin: 0; }
table.lessons, table.bank { border-collapse: collapse; margin: 1em 0; }
table.lessons td, table.lessons th, table.bank td, table.bank th { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
.question { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; margin: 1em 0; }
.question .meta { color: #666; font-size: 0.9em; }
.question details { margin-top: 0.5em; }
.question summary { cursor: pointer; color: #1a5fb4; }
pre.code { background: #f5f5f5; padding: 0.5em; overflow-x: auto; }
.widget-static { border-left: 4px solid #888; padding: 4px 10px; color: #444; margin: 4px 0; }
#results li { margin: 0.5em 0; }
"""

SEARCH_JS = """/* Client-side search of the offline site: the index is a script (search-index.js), not
   JSON fetched at run time, because browsers refuse fetch() from file://. */
(function () {
  var box = document.getElementById("q"), list = document.getElementById("results");
  var count = document.getElementById("count");
  function run() {
    var q = box.value.trim().toLowerCase();
    list.innerHTML = "";
    if (!q) { count.textContent = ""; return; }
    var terms = q.split(/\\s+/), hits = [];
    window.COURSE_SEARCH.forEach(function (e) {
      var hay = (e.title + " " + e.text).toLowerCase();
      if (terms.every(function (t) { return hay.indexOf(t) >= 0; })) hits.push(e);
    });
    count.textContent = hits.length + " result" + (hits.length === 1 ? "" : "s");
    hits.slice(0, 100).forEach(function (e) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = e.url; a.textContent = e.title; li.appendChild(a);
      var p = document.createElement("div"); p.textContent = e.kind + ": " + e.text.slice(0, 200);
      li.appendChild(p); list.appendChild(li);
    });
  }
  var m = /[?&]q=([^&]*)/.exec(window.location.search);
  if (m) box.value = decodeURIComponent(m[1].replace(/\\+/g, " "));
  box.addEventListener("input", run);
  run();
})();
"""


# ------------------------------------------------------------------------------ pages
def _nav(prefix: str, extra: str = "") -> str:
    return (
        '<nav class="course-nav">'
        f'<a href="{prefix}index.html">Course index</a>'
        f'<a href="{prefix}questions/index.html">Question bank</a>'
        f'<a href="{prefix}search.html">Search</a>{extra}<span class="spacer"></span>'
        f'<form action="{prefix}search.html" method="get"><input name="q" placeholder="search the course" '
        'aria-label="search the course"> <button type="submit">Search</button></form></nav>'
    )


def _page(title: str, body: str, prefix: str, *, math: bool = False, scripts: tuple[str, ...] = (), lang: str = "en") -> str:
    tail = ""
    if math:
        tail += f'<script src="{prefix}assets/mathjax/{_MATHJAX_ENTRY}"></script>\n'
        tail += f'<script src="{prefix}assets/mathjax/offline-math.js"></script>\n'
    for s in scripts:
        tail += f'<script src="{prefix}{s}"></script>\n'
    return (
        f"<!DOCTYPE html>\n<html lang=\"{'zh-Hans' if lang == 'zh' else 'en'}\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{prefix}assets/site.css">\n</head>\n<body>\n'
        f"{_nav(prefix)}\n<main class=\"course-page\">\n{body}\n</main>\n{tail}</body>\n</html>\n"
    )


_MATHJAX_ENTRY = ""


def _anchor(text: str) -> str:
    """The id nbconvert gives a heading: its text, spaces as hyphens, URL-quoted
    (``nbconvert.filters.strings._convert_header_id``)."""
    from urllib.parse import quote

    from course_utils.interview.bank import heading_anchor

    return quote(heading_anchor(text), safe="?/:@!$&'()*+,;=")


def _sections(nb) -> list[tuple[str, str]]:
    """(heading, markdown text until the next heading) of every ``## `` section."""
    out: list[tuple[str, str]] = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                out.append((line[3:].strip(), ""))
            elif out:
                out[-1] = (out[-1][0], out[-1][1] + " " + line)
    return out


def _budgets() -> dict[str, int]:
    text = (common.ROOT / "conftest.py").read_text(encoding="utf-8") if (common.ROOT / "conftest.py").exists() else ""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r'"(\d\d_\w+)\.ipynb":\s*(\d+)', text)}


def _lesson_html(nb, nav_top: str, nav_bottom: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="course_site", extra_template_basedirs=[str(TEMPLATES)])
    resources = {"course": {"prefix": "../", "nav_top": nav_top, "nav_bottom": nav_bottom, "mathjax_entry": _MATHJAX_ENTRY}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# -------------------------------------------------------------------------- questions
def _lang(value: Any, lang: str) -> Any:
    """A bilingual field ({"en": ..., "zh": ...}) in ``lang`` (English if missing); other values as they are."""
    if isinstance(value, dict) and ("en" in value or "zh" in value):
        return value.get(lang, value.get("en"))
    return value


def _md(text: Any) -> str:
    from course_utils.exercises import markdown_to_html

    return markdown_to_html(str(text))


def _code(text: str) -> str:
    return f'<pre class="code"><code>{html.escape(text)}</code></pre>'


def _ref_links(q, prefix: str, lang: str) -> str:
    items = []
    for ref in q.refs:
        nb, section = ref.get("notebook", ""), ref.get("section", "")
        if not nb:
            continue
        href = html.escape(f"{prefix}lessons/{nb}.html#{_anchor(section)}", quote=True)
        items.append(f'<li><a href="{href}">{html.escape(nb)}, §{html.escape(section)}</a></li>')
    return f"<p>{UI[lang]['refs']}:</p><ul>{''.join(items)}</ul>" if items else ""


def render_question(q, lang: str, prefix: str) -> str:
    """One question as HTML, answer behind a click; unknown types are rendered generically."""
    raw, ui = q.raw, UI[lang]
    level = DIFFICULTY.get(raw.get("difficulty"), (str(raw.get("difficulty")),) * 2)[0 if lang == "en" else 1]
    parts = [
        f'<div class="question" id="{html.escape(q.id, quote=True)}">',
        f'<div class="meta">{html.escape(q.id)} · {html.escape(str(raw.get("type", "")))} · {ui["difficulty"]}: {html.escape(level)}</div>',
        f"<p>{_md(_lang(raw.get('question', ''), lang))}</p>",
    ]
    if raw.get("type") == "bug" and "code" in raw:
        parts.append(_code(q.numbered_code()))
    elif isinstance(raw.get("code"), str):
        parts.append(_code(raw["code"]))
    if isinstance(raw.get("starter"), str):
        parts.append(f"<p>{ui['starter']}:</p>" + _code(raw["starter"]))
    choices = _lang(raw.get("choices"), lang)
    if isinstance(choices, list):
        parts.append("<ol type=\"A\">" + "".join(f"<li>{_md(c)}</li>" for c in choices) + "</ol>")
    answer = [f"<details><summary>{ui['answer']}</summary>"]
    if raw.get("answer") is not None:
        answer.append(f"<p><b>{_md(_lang(raw['answer'], lang))}</b></p>")
    if raw.get("explanation") is not None:
        answer.append(f"<p>{ui['explanation']}: {_md(_lang(raw['explanation'], lang))}</p>")
    rubric = _lang(raw.get("rubric"), lang)
    if isinstance(rubric, list) and rubric:
        items = []
        for item in rubric:
            item = _lang(item, lang)
            if isinstance(item, dict):  # e.g. {"point": ..., "weight": ...}
                item = " · ".join(str(_lang(v, lang)) for v in item.values())
            items.append(f"<li>{_md(item)}</li>")
        answer.append(f"<p>{ui['rubric']}:</p><ul>{''.join(items)}</ul>")
    if raw.get("type") == "bug" and "fix" in raw:
        try:
            answer.append(f"<p>{ui['fix']}:</p>" + _code(q.fixed_code()))
        except (KeyError, ValueError, TypeError, AttributeError):
            pass
    if isinstance(raw.get("solution"), str):
        answer.append(f"<p>{ui['solution']}:</p>" + _code(raw["solution"]))
    answer.append(_ref_links(q, prefix, lang))
    answer.append("</details>")
    parts += answer + ["</div>"]
    return "\n".join(parts)


def _topic_order(bank: dict) -> list[str]:
    from course_utils import quiz

    known = list(getattr(quiz, "TOPICS", []))
    seen = []
    for q in bank.values():
        if q.topic not in seen:
            seen.append(q.topic)
    return [t for t in known if t in seen] + sorted(t for t in seen if t not in known)


def _question_pages(out: Path) -> list[dict]:
    """Write questions/; return the search entries."""
    from course_utils import quiz

    bank = quiz.load_bank()
    topics = _topic_order(bank)
    levels = sorted({q.difficulty for q in bank.values()})
    entries = []
    # the matrix: topic x difficulty
    head = "".join(f"<th>{html.escape(DIFFICULTY.get(d, (str(d),))[0])}</th>" for d in levels)
    rows = []
    for t in topics:
        cells = []
        for d in levels:
            n = sum(1 for q in bank.values() if q.topic == t and q.difficulty == d)
            cells.append(
                f'<td><a href="en/{t}.html#level-{d}">{n}</a> · <a href="zh/{t}.html#level-{d}">中文</a></td>' if n else "<td>0</td>"
            )
        total = sum(1 for q in bank.values() if q.topic == t)
        rows.append(
            f"<tr><td>{html.escape(t)}</td><td><a href=\"en/{t}.html\">{total} (English)</a> · "
            f"<a href=\"zh/{t}.html\">中文</a></td>{''.join(cells)}</tr>"
        )
    by_level = " · ".join(
        f'<a href="en/level-{d}.html">{DIFFICULTY.get(d, (str(d),))[0]}</a> (<a href="zh/level-{d}.html">{DIFFICULTY.get(d, (str(d),) * 2)[1]}</a>)'
        for d in levels
    )
    body = (
        f"<h1>Question bank ({len(bank)} questions)</h1>\n"
        "<p>Interview and review questions in English and Chinese; every answer is behind a click. "
        f"By difficulty: {by_level}.</p>\n"
        f"<table class=\"bank\"><tr><th>Topic</th><th>All</th>{head}</tr>\n" + "\n".join(rows) + "</table>"
    )
    common.write_text(out / "questions" / "index.html", _page("Question bank", body, "../"))
    for lang in LANGS:
        other = "zh" if lang == "en" else "en"
        for t in topics:
            parts = [f"<h1>{UI[lang]['questions']}: {html.escape(t)}</h1>",
                     f'<p><a href="../{other}/{t}.html">{LANGS[other]}</a> · <a href="../index.html">{UI[lang]["topic"]}</a></p>']
            for d in levels:
                qs = [q for q in bank.values() if q.topic == t and q.difficulty == d]
                if not qs:
                    continue
                label = DIFFICULTY.get(d, (str(d),) * 2)[0 if lang == "en" else 1]
                parts.append(f'<h2 id="level-{d}">{UI[lang]["difficulty"]}: {html.escape(label)}</h2>')
                parts += [render_question(q, lang, "../../") for q in qs]
            common.write_text(out / "questions" / lang / f"{t}.html", _page(f"{t} ({lang})", "\n".join(parts), "../../", math=True, lang=lang))
        for d in levels:
            label = DIFFICULTY.get(d, (str(d),) * 2)[0 if lang == "en" else 1]
            parts = [f"<h1>{UI[lang]['questions']}: {html.escape(label)}</h1>",
                     f'<p><a href="../{other}/level-{d}.html">{LANGS[other]}</a></p>']
            for t in topics:
                qs = [q for q in bank.values() if q.topic == t and q.difficulty == d]
                if qs:
                    parts.append(f'<h2 id="{html.escape(t)}"><a href="{t}.html">{html.escape(t)}</a></h2>')
                    parts += [render_question(q, lang, "../../") for q in qs]
            common.write_text(out / "questions" / lang / f"level-{d}.html", _page(f"{label} ({lang})", "\n".join(parts), "../../", math=True, lang=lang))
    for q in bank.values():
        text = " ".join(str(_lang(q.raw.get("question", ""), lng)) for lng in LANGS)
        entries.append({"kind": "question", "title": f"{q.id} ({q.topic})", "url": f"questions/en/{q.topic}.html#{q.id}", "text": text})
    return entries


# ------------------------------------------------------------------------------ build
def build(out: Path, *, lessons: list[str] | None = None) -> list[Path]:
    global _MATHJAX_ENTRY
    out = common.fresh_dir(out)
    _MATHJAX_ENTRY = assets.vendor_mathjax(out / "assets" / "mathjax")["entry"]
    common.write_text(out / "assets" / "site.css", SITE_CSS.lstrip())
    common.write_text(out / "assets" / "search.js", SEARCH_JS)
    paths = [p for p in common.notebook_paths() if not lessons or common.lesson_name(p) in lessons]
    notebooks = [common.read_notebook(p) for p in paths]
    titles = [common.lesson_title(nb) or common.lesson_name(p) for nb, p in zip(notebooks, paths, strict=True)]
    budgets = _budgets()
    entries, rows, written = [], [], []
    for i, (path, nb) in enumerate(zip(paths, notebooks, strict=True)):
        lesson = common.lesson_name(path)
        sections = _sections(nb)
        n_fig = sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
        n_ex = sum(c.source.count(".check(") for c in nb.cells if c.cell_type == "code")
        n_widgets = common.static_widgets(nb)
        nb.metadata["title"] = titles[i]
        prev_link = f'<a href="{common.lesson_name(paths[i - 1])}.html">&larr; {html.escape(titles[i - 1])}</a>' if i > 0 else "<span></span>"
        next_link = f'<a href="{common.lesson_name(paths[i + 1])}.html">{html.escape(titles[i + 1])} &rarr;</a>' if i + 1 < len(paths) else "<span></span>"
        pager = f'<nav class="course-nav">{prev_link}<span class="spacer"></span><a href="../index.html">Index</a><span class="spacer"></span>{next_link}</nav>'
        page = _lesson_html(nb, _nav("../") + pager, pager)
        target = out / "lessons" / f"{lesson}.html"
        common.write_text(target, page)
        written.append(target)
        budget = budgets.get(lesson)
        rows.append(
            f"<tr><td>{lesson[:2]}</td><td><a href=\"lessons/{lesson}.html\">{html.escape(titles[i])}</a></td>"
            f"<td>{len(sections)}</td><td>{n_ex}</td><td>{n_fig}</td><td>{n_widgets}</td>"
            f"<td>{'' if budget is None else f'{budget} s'}</td></tr>"
        )
        entries.append({"kind": "lesson", "title": titles[i], "url": f"lessons/{lesson}.html", "text": " ".join(s for s, _ in sections)})
        for heading, text in sections:
            entries.append({"kind": "section", "title": f"{lesson[:2]} · {heading}",
                            "url": f"lessons/{lesson}.html#{_anchor(heading)}", "text": " ".join(text.split())[:600]})
    entries += _question_pages(out)
    index = (
        f"<h1>{COURSE_TITLE}</h1>\n"
        "<p>The whole course offline: every lesson with its figures (widgets as static copies), the "
        "question bank in English and Chinese, and a search box. Run the notebooks themselves in "
        "JupyterLab to execute code and use the widgets.</p>\n"
        "<table class=\"lessons\"><tr><th>#</th><th>Lesson</th><th>Sections</th><th>Exercises</th>"
        "<th>Figures</th><th>Widgets</th><th>Run time budget (quiet 2-core CPU)</th></tr>\n"
        + "\n".join(rows)
        + "</table>\n<p><a href=\"questions/index.html\">The question bank</a> · <a href=\"search.html\">Search</a></p>"
    )
    common.write_text(out / "index.html", _page(COURSE_TITLE, index, ""))
    search = (
        "<h1>Search</h1>\n<p><input id=\"q\" type=\"search\" placeholder=\"e.g. receptive field, 感受野\" "
        "aria-label=\"search\" size=\"40\" autofocus> <span id=\"count\"></span></p>\n<ol id=\"results\"></ol>"
    )
    common.write_text(out / "search.html", _page("Search", search, "", scripts=("assets/search-index.js", "assets/search.js")))
    common.write_text(
        out / "assets" / "search-index.js",
        "window.COURSE_SEARCH = " + json.dumps(entries, ensure_ascii=False, sort_keys=True, indent=0) + ";\n",
    )
    return written

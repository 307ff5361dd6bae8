"""Chinese section titles of the review links (issue 14): data/questions/i18n/sections_zh.json
covers every ``## `` heading of every lesson, holds no stale heading, and the zh rendering
shows the Chinese title while linking to the English heading's anchor."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from course_utils import quiz
from course_utils.interview import bank, mock, render

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FILE = ROOT / "data" / "questions" / "i18n" / "sections_zh.json"
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"^(\d+)\.\s")
REF = {"notebook": "04_gan_training", "section": "4. The training step line by line"}


def _headings(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                m = re.match(r"^##\s+(.*\S)\s*$", line)
                if m:
                    out.append(m.group(1))
    return out


def _lessons() -> dict[str, list[str]]:
    return {p.stem: _headings(p) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def test_the_file_is_where_the_code_reads_it_and_outside_the_topic_files():
    assert bank.SECTIONS_ZH_FILE == FILE and FILE.exists()
    assert FILE.parent != bank.BANK_DIR  # the bank loads data/questions/*.json as topics


def test_every_heading_of_every_lesson_has_a_chinese_title():
    table = json.loads(FILE.read_text(encoding="utf-8"))
    lessons = _lessons()
    assert len(lessons) >= 10
    missing = [
        f"{stem}: {h!r}" for stem, heads in lessons.items() for h in heads
        if h not in table.get(stem, {})
    ]
    assert not missing, (
        "these `## ` headings have no Chinese title in data/questions/i18n/sections_zh.json "
        "(a renamed or new heading needs its entry):\n  " + "\n  ".join(missing)
    )


def test_no_stale_chinese_title():
    table = json.loads(FILE.read_text(encoding="utf-8"))
    lessons = _lessons()
    stale = [
        f"{stem}: {en!r}" for stem, titles in table.items() for en in titles
        if en not in lessons.get(stem, [])
    ]
    assert not stale, (
        "data/questions/i18n/sections_zh.json translates headings that no notebook has "
        "(renamed or removed: update or delete these entries):\n  " + "\n  ".join(stale)
    )


def test_chinese_titles_are_chinese_and_keep_the_section_number():
    table = json.loads(FILE.read_text(encoding="utf-8"))
    bad = []
    for stem, titles in table.items():
        for en, zh in titles.items():
            m = NUMBER.match(en)
            want = f"{m.group(1)}. " if m else None
            ok = CJK.search(zh) and (zh.startswith(want) if want else not NUMBER.match(zh))
            if not ok:
                bad.append(f"{stem}: {en!r} -> {zh!r}")
    assert not bad, "each Chinese title contains Chinese and keeps the section number:\n  " + (
        "\n  ".join(bad)
    )


def test_every_bank_ref_has_a_chinese_title():
    refs = {(r["notebook"], r["section"]) for q in quiz.load_bank().values() for r in q.refs}
    table = bank.sections_zh()
    assert not [r for r in refs if r[1] not in table.get(r[0], {})]


def test_zh_label_and_link_show_the_chinese_title_and_the_english_anchor():
    assert bank.section_title(REF, "zh") == "4. 逐行解读训练步骤"
    assert quiz.ref_label(REF) == "notebooks/04_gan_training.ipynb, §4. The training step line by line"
    assert quiz.ref_label(REF, "zh") == "notebooks/04_gan_training.ipynb，§4. 逐行解读训练步骤"
    link = quiz.ref_link(REF, "zh")
    assert link.startswith('<a href="04_gan_training.ipynb#4.-The-training-step-line-by-line">')
    assert "逐行解读训练步骤" in link and "line by line</a>" not in link
    assert quiz.ref_link(REF) == (
        '<a href="04_gan_training.ipynb#4.-The-training-step-line-by-line">'
        "notebooks/04_gan_training.ipynb, §4. The training step line by line</a>"
    )


def test_an_unknown_section_falls_back_to_the_english_heading():
    ref = {"notebook": "04_gan_training", "section": "99. Not a heading"}
    assert bank.section_title(ref, "zh") == "99. Not a heading"


def _question_with_ref():
    return next(q for q in quiz.load_bank().values() if q.refs and q.type == "choice")


def test_zh_rendered_question_shows_chinese_review_titles():
    q = _question_with_ref()
    zh = [bank.sections_zh()[r["notebook"]][r["section"]] for r in q.refs]
    html_zh = render.render_question(q, "zh", answer=True, html_=True)
    text_zh = render.render_question(q, "zh", answer=True)
    html_en = render.render_question(q, "en", answer=True, html_=True)
    for t in zh:
        assert t in html_zh and t in text_zh and t not in html_en
    assert all(r["section"] in html_en for r in q.refs)


def test_zh_mock_report_links_show_chinese_titles_with_english_anchors():
    m = mock.MockInterview(3, seed=0)
    m.start()
    m.finish()  # nothing answered: every question's sections are to review
    refs = [r for q in m.questions for r in q.refs]
    assert refs
    html_zh, text_zh = m.report_html("zh"), m.report_text("zh")
    html_en, text_en = m.report_html("en"), m.report_text("en")
    for ref in refs:
        zh = bank.sections_zh()[ref["notebook"]][ref["section"]]
        assert quiz.ref_link(ref, "zh") in html_zh  # Chinese label, English anchor
        href = html.escape(f'{ref["notebook"]}.ipynb#{ref["section"].replace(" ", "-")}')
        assert f'href="{href}"' in html_zh
        assert zh in text_zh and zh not in html_en and ref["section"] in text_en

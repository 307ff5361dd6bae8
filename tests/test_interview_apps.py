"""The notebook apps of course_utils.interview: the first answer counts, a visible
counter, no terminal words, Chinese throughout, design checkboxes, Tab in the code box."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap

import pytest
from interview_fixtures import DESIGN, small_bank  # noqa: F401  (fixture)

from course_utils import interview
from course_utils.interview import apps, tab_keys


@pytest.fixture(autouse=True)
def _progress_env(tmp_path, monkeypatch):
    monkeypatch.setenv(interview.PROGRESS_ENV, str(tmp_path / "progress.json"))
    return tmp_path / "progress.json"


def _cards(path):
    return json.loads(path.read_text())["cards"]


def test_the_first_answer_counts_for_the_score_and_the_leitner_box(tmp_path):
    path = tmp_path / "mine.json"
    app = apps.QuizApp(["conv-002", "conv-007"], progress=path)  # an explicit progress path
    assert app.submit("1700").outcome == "incorrect"
    assert "1792" in app.html()  # the answer is shown after a wrong answer
    again = app.submit("1792")  # typed back in
    assert again.correct and app.score() == (0, 1)
    assert _cards(path)["conv-002"]["box"] == 1 and _cards(path)["conv-002"]["seen"] == 1
    assert "Only your first answer counts for the score and the flashcards (it was incorrect)." in app.html()
    assert "answered 1 · Correct 0/1" in app.html()
    app.next()
    assert app.submit("B").correct and app.submit("A").outcome == "incorrect"
    assert app.score() == (1, 2) and _cards(path)["conv-007"]["box"] == 2


def test_an_invalid_first_input_does_not_use_up_the_first_attempt():
    app = apps.QuizApp(["conv-002"])
    assert app.submit("lots").outcome == "invalid" and app.score() == (0, 0)
    assert app.submit(1792).correct and app.score() == (1, 1)
    assert "Only your first" not in app.html()


def test_mock_interview_counts_the_first_answer_only():
    t = [0.0]
    app = apps.MockApp(3, minutes=5, seed=1, topics=["convolution"], types=["numeric"],
                       clock=lambda: t[0])
    q = app.question
    assert app.submit(q.raw["value"] + 1000).outcome == "incorrect"
    assert app.submit(q.raw["value"]).correct  # typed back in: shown, not counted
    assert app.mock.results[q.id].outcome == "incorrect" and app.score() == (0, 1)
    assert "Score: 0/3" in app.finish()
    report = app._report_w.value
    assert "<table>" in report and "<a href=" in report and ".ipynb#" in report
    app.set_lang("zh")
    assert "模拟面试报告" in app._report_w.value and app._finish_btn.description == "结束"


def test_progress_counter_and_explanations_are_visible():
    app = apps.QuizApp(["conv-002", "conv-007", "att-005"])
    assert "Question 1/3" in app._status_w.value and app._bar.max == 3 and app._bar.value == 0
    assert "vdl-progress-counter" in app._status_w._dom_classes and "vdl-quiz" in app.widget._dom_classes
    app.submit(1792)
    assert app._bar.value == 1 and "Why" in app._feedback_w.value
    app.next()
    assert "Question 2/3" in app.html()
    app.submit("B")
    assert "Why" in app.html()  # an explanation after a right choice too


def test_widget_shows_no_terminal_words_and_no_english_in_chinese_mode():
    ids = ["conv-002", "conv-007", "att-005", "conv-012", "gan-001"]
    bad = {"conv-002": "lots", "conv-007": "Z", "att-005": "99", "conv-012": 42, "gan-001": "maybe"}
    for lang in ("en", "zh"):
        app = apps.QuizApp(ids, lang=lang)
        for qid in ids:
            app.submit(bad[qid])
            assert "skip" not in app.html() and "quit" not in app.html(), app.html()
            app.next()
    app = apps.QuizApp(["gan-001", "conv-012", "att-005"], lang="en")
    app.submit(True)
    app.set_lang("zh")
    page = app.html()
    assert "自评卡片" in page and "Self-graded" not in page
    app.next()
    app.submit("x = 1")
    assert "请定义名为" in app.html() and "Define a function" not in app.html()
    app.next()
    app.submit("2, 3")
    assert "找对了" in app.html() and "Right:" not in app.html()
    words = [app._check_btn.description, app._knew_btn.description, app._forgot_btn.description,
             app._reveal_btn.description]
    assert all(not any(c.isascii() and c.isalpha() for c in w) for w in words), words
    fc = apps.FlashcardApp("gan", lang="zh", limit=2)
    fc.reveal()
    assert "Answer" not in fc.html() and "cards left" not in fc.html()
    assert fc._knew_btn.description == "我记得"


@pytest.mark.usefixtures("small_bank")
def test_design_case_in_the_widget_with_checkboxes():
    app = apps.design_drill(lang="en")
    assert app.ids == ["sys-901"] and app._check_btn.layout.display == "none"
    assert "Think (or write) your answer" in app.html()
    assert "vdl-tab-indent" in app._input_w._dom_classes  # the notes box keeps Tab too
    app._reveal_btn.click()
    assert len(app._ticks) == len(DESIGN["rubric"]["en"]) and app._check_btn.layout.display is None
    for box in app._ticks[:5]:
        box.value = True
    app._check_btn.click()
    res = app.results["sys-901"]
    assert res.correct and res.score == pytest.approx(5 / 7)
    assert "5 of 7 points" in app._feedback_w.value and "☑ keyframes" in app.html()
    app._ticks[5].value = app._ticks[6].value = True
    app._check_btn.click()  # a second self-grading does not change the first
    assert app.results["sys-901"].score == pytest.approx(5 / 7)
    app.set_lang("zh")
    assert "你答到了 7 个要点中的 7 个" in app.html() and "评分要点" in app.html()


@pytest.mark.usefixtures("small_bank")
def test_flashcards_show_a_design_cards_rubric_on_the_back(tmp_path):
    fc = apps.FlashcardApp("system_design", progress=tmp_path / "p.json")
    fc.reveal()
    assert "Model answer" in fc.html() and "ANN index" in fc.html()
    assert fc.rate(True) == 2 and (tmp_path / "p.json").exists()


def test_progress_argument_is_checked():
    with pytest.raises(TypeError, match="progress"):
        apps.QuizApp(["conv-002"], progress=3)


def test_code_box_keeps_tab_and_the_script_is_shown_with_the_app():
    app = apps.QuizApp(["conv-012"])
    assert tab_keys.TAB_CLASS in app._input_w._dom_classes
    from IPython.display import Javascript

    shown = []
    import IPython.display as d

    real = d.display
    d.display = lambda obj, **kw: shown.append(obj)
    try:
        app._ipython_display_()
    finally:
        d.display = real
    assert isinstance(shown[0], Javascript) and shown[1] is app.widget
    js = shown[0].data
    assert "data-lm-suppress-shortcuts" in js and f'closest(".{tab_keys.TAB_CLASS}")' in js
    assert '"Tab"' in js and "preventDefault" in js


@pytest.mark.parametrize(
    "value, start, end, shift, want",
    [
        ("def f():\nreturn 1", 9, 9, False, ("def f():\n    return 1", 13, 13)),
        ("ab", 1, 2, False, ("a    ", 5, 5)),  # a selection is replaced
        ("def f():\n      return 1", 15, 15, True, ("def f():\n  return 1", 11, 11)),
        ("  x", 3, 3, True, ("x", 1, 1)),
        ("x", 0, 0, True, ("x", 0, 0)),
    ],
)
def test_indent_text(value, start, end, shift, want):
    assert tab_keys.indent_text(value, start, end, shift) == want


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_tab_script_in_node_with_a_fake_dom():
    """Runs TAB_KEYS_JS with a minimal fake document: Tab in a quiz textarea is prevented
    and indents (an input event follows), Shift+Tab dedents, other keys and textareas
    outside the quiz are left alone, and focus marks the box to suppress shortcuts."""
    harness = textwrap.dedent(
        """
        const handlers = {};
        global.window = {};
        let calls = 0;
        global.document = { addEventListener: (t, f, capture) => { calls += 1; handlers[t] = [f, capture]; } };
        global.Event = class { constructor(type, o) { this.type = type; this.bubbles = o.bubbles; } };
        function textarea(value, pos, inQuiz) {
          const box = { attrs: {}, setAttribute(k, v) { this.attrs[k] = v; } };
          return { tagName: "TEXTAREA", value, selectionStart: pos, selectionEnd: pos, events: [], box,
                   closest: (sel) => (inQuiz && sel === ".%s" ? box : null),
                   dispatchEvent(e) { this.events.push(e.type); } };
        }
        function key(t, k, shift) {
          const e = { key: k, shiftKey: !!shift, target: t, prevented: false,
                      preventDefault() { this.prevented = true; } };
          handlers.keydown[0](e); return e;
        }
        %s
        %s
        const out = {};
        const a = textarea("def f():\\nreturn 1", 9, true);
        handlers.focusin[0]({ target: a });
        out.focus_attr = a.box.attrs["data-lm-suppress-shortcuts"];
        out.tab = key(a, "Tab").prevented; out.value = a.value; out.caret = a.selectionStart; out.events = a.events.slice();
        out.shift = key(a, "Tab", true).prevented; out.dedented = a.value;
        out.letter = key(a, "r").prevented;
        const b = textarea("x", 0, false);
        out.outside = key(b, "Tab").prevented; out.outside_value = b.value;
        out.capture = handlers.keydown[1];
        out.twice = calls;
        console.log(JSON.stringify(out));
        """
    ) % (tab_keys.TAB_CLASS, tab_keys.TAB_KEYS_JS, tab_keys.TAB_KEYS_JS)
    r = subprocess.run(["node", "-e", harness], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["focus_attr"] == "true" and out["capture"] is True
    assert out["tab"] is True and out["value"] == "def f():\n    return 1" and out["caret"] == 13
    assert out["events"] == ["input"]
    assert out["shift"] is True and out["dedented"] == "def f():\nreturn 1"
    assert out["letter"] is False and out["outside"] is False and out["outside_value"] == "x"
    assert out["twice"] == 2  # the script installs its listeners once per page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")
def test_the_tab_script_in_chromium():
    """A real browser: Tab in a quiz box indents and keeps the focus (the next keys type
    into the box), the box is marked for Lumino, and Tab elsewhere still moves the focus.
    (The JupyterLab end-to-end test lives with the browser tests.)"""
    playwright = pytest.importorskip("playwright.sync_api")
    page_html = (
        f'<div class="widget-textarea {tab_keys.TAB_CLASS}"><textarea id="code">def f():\n</textarea></div>'
        '<textarea id="other"></textarea><button id="after">next</button>'
    )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_content(page_html)
            page.evaluate(tab_keys.TAB_KEYS_JS)
            page.evaluate("window.inputs = 0; document.getElementById('code')"
                          ".addEventListener('input', () => window.inputs++)")
            page.focus("#code")
            page.evaluate("const t = document.getElementById('code'); t.selectionStart = t.selectionEnd = t.value.length")
            page.keyboard.press("Tab")
            page.keyboard.type("return 1")
            assert page.eval_on_selector("#code", "e => e.value") == "def f():\n    return 1"
            assert page.evaluate("document.activeElement.id") == "code"
            assert page.evaluate("window.inputs") >= 1  # ipywidgets syncs on input events
            marked = page.evaluate(f"document.querySelector('.{tab_keys.TAB_CLASS}').getAttribute('data-lm-suppress-shortcuts')")
            assert marked == "true"
            page.focus("#other")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "after"
        finally:
            browser.close()

"""The interview question bank (data/questions/*.json): schema, references, verified answers."""

from __future__ import annotations

import difflib
import json
import math
import re
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils import quiz

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "data" / "questions"
NOTEBOOKS = ROOT / "notebooks"
CJK = re.compile(r"[\u4e00-\u9fff]")

FILES = sorted(BANK.glob("*.json"))
RAW = [q for f in FILES for q in json.loads(f.read_text(encoding="utf-8"))["questions"]]
BY_TYPE = {t: [q for q in RAW if q["type"] == t] for t in quiz.TYPES}


def _same(en: str, zh: str) -> bool:
    table = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "。": "."})
    return re.sub(r"\s+", "", en) == re.sub(r"\s+", "", zh.translate(table))


def _ids(items):
    return [q["id"] for q in items]


def _namespace():
    warnings.filterwarnings("ignore", category=UserWarning, message=".*quantiz")
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*quantization")
    import torchvision

    return {"torch": torch, "nn": nn, "F": F, "math": math, "torchvision": torchvision}


# ------------------------------------------------------------------------------ schema
def test_files_are_one_per_topic_and_utf8_json():
    assert {f.stem for f in FILES} == set(quiz.TOPICS)
    for f in FILES:
        data = json.loads(f.read_text(encoding="utf-8"))
        assert data["topic"] == f.stem
        assert data["format"] == "video-dl-course/questions" and data["version"] == 1
        assert all(q["topic"] == f.stem for q in data["questions"]), f.name


def test_bank_size_and_topic_coverage():
    assert len(RAW) >= 150, len(RAW)
    counts = {t: sum(q["topic"] == t for q in RAW) for t in quiz.TOPICS}
    assert all(n >= 15 for n in counts.values()), counts
    assert all(BY_TYPE[t] for t in quiz.TYPES), {t: len(v) for t, v in BY_TYPE.items()}


def test_ids_unique_and_stable_format():
    ids = _ids(RAW)
    assert len(ids) == len(set(ids))
    prefixes = {
        "convolution": "conv",
        "rnn": "rnn",
        "attention": "att",
        "video_models": "vid",
        "data_pipeline": "data",
        "gan": "gan",
        "training_efficiency": "train",
        "compression": "comp",
        "metrics": "metric",
        "deployment": "deploy",
        "generative": "gen",
    }
    for q in RAW:
        assert re.fullmatch(rf"{prefixes[q['topic']]}-\d{{3}}", q["id"]), q["id"]
    assert sorted(quiz.load_bank(reload=True)) == sorted(ids)


@pytest.mark.parametrize("q", RAW, ids=_ids(RAW))
def test_question_schema(q):
    assert q["type"] in quiz.TYPES
    assert q["topic"] in quiz.TOPICS
    assert q["difficulty"] in (1, 2, 3)
    for key in ("question", "answer", "explanation"):
        assert set(q[key]) == {"en", "zh"}, key
        en, zh = q[key]["en"].strip(), q[key]["zh"].strip()
        assert en and zh, key
        assert not CJK.search(en), f"Chinese characters in the English {key}"
        # a number or a formula reads the same in both languages
        neutral = key == "answer" and _same(en, zh)
        assert neutral or CJK.search(zh), f"the Chinese {key} has no Chinese characters"
    assert q["refs"], "every question names the lesson sections that teach it"
    if q["type"] == "choice":
        en, zh = q["choices"]["en"], q["choices"]["zh"]
        assert len(en) == len(zh) >= 3
        assert len(set(en)) == len(en)
        assert 0 <= q["correct"] < len(en) and isinstance(q["correct"], int)
        assert all(c.strip() for c in en + zh)
    if q["type"] == "numeric":
        assert isinstance(q["value"], int | float) and not isinstance(q["value"], bool)
        assert q["tolerance"] >= 0
        assert q["verify"].strip()
    if q["type"] == "code":
        for key in ("entry", "starter", "solution", "wrong", "tests"):
            assert q[key].strip(), key
        assert f"def {q['entry']}(" in q["starter"] and f"def {q['entry']}(" in q["solution"]
    if q["type"] == "bug":
        n = len(q["code"].splitlines())
        assert q["bug_lines"] and all(1 <= i <= n for i in q["bug_lines"])
        assert {int(k) for k in q["fix"]} >= set(q["bug_lines"])
        assert all(1 <= int(k) <= n for k in q["fix"])


def _headings(stem: str) -> set[str]:
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.exists():
        return set()
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                m = re.match(r"^##\s+(.*\S)\s*$", line)
                if m:
                    out.add(m.group(1))
    return out


def test_references_resolve_to_notebook_sections():
    cache: dict[str, set[str]] = {}
    missing = []
    for q in RAW:
        for ref in q["refs"]:
            stem, section = ref["notebook"], ref["section"]
            heads = cache.setdefault(stem, _headings(stem))
            if section not in heads:
                missing.append(f"{q['id']}: {stem} / {section!r}")
    assert not missing, "unresolved references:\n" + "\n".join(missing)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_no_duplicate_questions():
    """No two questions ask nearly the same thing with the same answer."""
    texts = [(q["id"], _norm(q["question"]["en"]), _norm(q["answer"]["en"])) for q in RAW]
    assert len({t for _, t, _ in texts}) == len(texts)
    close = []
    for i, (a_id, a, a_ans) in enumerate(texts):
        for b_id, b, b_ans in texts[i + 1 :]:
            m = difflib.SequenceMatcher(None, a, b)
            similar = m.real_quick_ratio() > 0.8 and m.quick_ratio() > 0.8 and m.ratio() > 0.8
            if similar and difflib.SequenceMatcher(None, a_ans, b_ans).ratio() > 0.8:
                close.append((a_id, b_id))
    assert not close, f"near-duplicate questions: {close}"


def test_interview_guide_questions_are_covered():
    guide = [q for q in RAW if "guide" in q.get("tags", [])]
    assert len(guide) >= 12, _ids(guide)
    text = " ".join(q["question"]["en"].lower() for q in guide)
    for needle in (
        "gan work",
        "cnns and rnns",
        "speed up",
        "architectures",
        "preprocessing",
        "video classifier",
        "online",
        "adversarial loss",
        "gradient descent",
        "precision",
        "pruning",
        "applications",
    ):
        assert needle in text, needle


# --------------------------------------------------------------------- verified answers
NUMERIC = BY_TYPE["numeric"]
VERIFIED_CHOICES = [q for q in BY_TYPE["choice"] if q.get("verify")]


@pytest.mark.parametrize("q", NUMERIC, ids=_ids(NUMERIC))
def test_numeric_answer_is_recomputed(q):
    ns = _namespace()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        exec(q["verify"], ns)
    result = float(ns["result"])
    assert abs(result - q["value"]) <= q["tolerance"] + 1e-9 * max(1, abs(q["value"])), (
        result,
        q["value"],
    )
    assert quiz.grade(quiz.get_question(q["id"]), q["value"]).correct
    assert quiz.grade(quiz.get_question(q["id"]), str(q["value"])).correct
    wrong = q["value"] + 2 * q["tolerance"] + max(1, abs(q["value"]) * 0.1)
    assert not quiz.grade(quiz.get_question(q["id"]), wrong).correct


@pytest.mark.parametrize("q", VERIFIED_CHOICES, ids=_ids(VERIFIED_CHOICES))
def test_choice_fact_is_recomputed(q):
    ns = _namespace()
    exec(q["verify"], ns)
    assert ns["result"] is True


CODE = BY_TYPE["code"]


@pytest.mark.parametrize("q", CODE, ids=_ids(CODE))
def test_code_reference_passes_and_wrong_fails(q):
    question = quiz.get_question(q["id"])
    assert quiz.grade(question, q["solution"]).correct, quiz.grade(question, q["solution"]).message
    bad = quiz.grade(question, q["wrong"])
    assert bad.outcome == "incorrect", bad
    blank = quiz.grade(question, q["starter"])
    assert blank.outcome == "incorrect"
    # the function object works as well as its source
    ns = _namespace()
    exec(q["solution"], ns)
    assert quiz.grade(question, ns[q["entry"]]).correct


BUGS = BY_TYPE["bug"]


@pytest.mark.parametrize("q", BUGS, ids=_ids(BUGS))
def test_bug_is_real_and_fix_works(q):
    question = quiz.get_question(q["id"])
    if not q.get("check"):
        assert q.get("framework") not in (None, "pytorch"), "PyTorch bug items need a check"
        assert question.fixed_code() != q["code"]
        return

    def run(code: str) -> None:
        ns = _namespace()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            exec(q.get("setup", ""), ns)
            exec(code, ns)
            exec(q["check"], ns)

    with pytest.raises(Exception):  # noqa: B017 - any failure proves the bug
        run(q["code"])
    run(question.fixed_code())
    assert quiz.grade(question, q["bug_lines"]).correct
    assert quiz.grade(question, ", ".join(map(str, q["bug_lines"]))).correct
    other = [i for i in range(1, len(q["code"].splitlines()) + 1) if i not in q["bug_lines"]][:1]
    assert not quiz.grade(question, other).correct


LESSONS = [
    "00_video_as_data", "01_convolution", "02_recurrence", "03_attention", "04_gan_training",
    "05_video_architectures", "06_efficient_training", "07_compression_and_deployment",
    "08_vae_and_diffusion",
]


@pytest.mark.parametrize("stem", LESSONS)
def test_lesson_end_of_chapter_questions_come_from_the_bank(stem):
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.exists():
        pytest.skip(f"{stem} is not written yet")
    nb = json.loads(path.read_text(encoding="utf-8"))
    ids = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and "show_questions" in src:
            ids += re.findall(r"[\"']([a-z]+-\d{3})[\"']", src)
    assert ids, f"{stem} shows no end-of-chapter questions from the bank"
    bank = quiz.load_bank()
    assert [i for i in ids if i not in bank] == []


@pytest.mark.parametrize("stem", LESSONS)
def test_lessons_stored_questions_match_the_bank(stem):
    """The lessons store show_questions' HTML (nbval compares it): editing a question a
    lesson shows, or the renderer, must come with a re-execution of that lesson."""
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.exists():
        pytest.skip(f"{stem} is not written yet")
    nb = json.loads(path.read_text(encoding="utf-8"))
    call = re.compile(
        r"show_questions\(\s*(\[[^\]]*\])\s*(?:,\s*lang\s*=\s*['\"](\w+)['\"])?\s*\)", re.S
    )
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] != "code" or "show_questions(" not in src:
            continue
        stored = [
            "".join(o["data"]["text/html"])
            for o in cell.get("outputs", [])
            if "text/html" in o.get("data", {})
        ]
        if not stored:
            continue  # not executed yet
        want = [
            "".join(
                quiz.render_question(
                    quiz.get_question(i), lang or "en", answer=True, html_=True, number=k + 1
                )
                for k, i in enumerate(re.findall(r"[a-z]+-\d{3}", ids))
            )
            for ids, lang in call.findall(src)
        ]
        assert want == stored, f"{stem}: its end-of-chapter questions changed since it was executed"

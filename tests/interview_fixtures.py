"""A small question bank in a temporary folder, for the tests of course_utils.interview.

It holds one item of each kind the real bank's content may not have yet: a spot-the-bug
item with an alternative accepted answer, and a system-design case with a rubric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils.interview import bank as bank_module

BUG = {
    "id": "gan-901",
    "topic": "gan",
    "type": "bug",
    "difficulty": 2,
    "question": {"en": "Which lines keep the generator's graph alive?", "zh": "哪几行让生成器的计算图一直保留？"},
    "answer": {"en": "Detach the fake batch.", "zh": "把假样本 detach。"},
    "explanation": {"en": "The discriminator step must not backpropagate into G.", "zh": "判别器这一步不应反向传播到 G。"},
    "refs": [{"notebook": "04_gan_training", "section": "3. Training loop"}],
    "code": "z = torch.randn(8, 4)\nfake = G(z)\nd_fake = D(fake)\nloss = bce(d_fake, zeros)\nloss.backward()",
    "bug_lines": [3],
    "fix": {"3": "d_fake = D(fake.detach())"},
    "alternatives": [
        {"bug_lines": [2], "fix": {"2": "fake = G(z).detach()"}},
        {"bug_lines": [2, 4], "fix": {"2": "fake = G(z)", "4": "loss = bce(D(fake.detach()), zeros)"}},
    ],
}

CHOICE = {
    "id": "gan-902",
    "topic": "gan",
    "type": "choice",
    "difficulty": 1,
    "question": {"en": "What does D output?", "zh": "D 输出什么？"},
    "answer": {"en": "A logit", "zh": "一个 logit"},
    "explanation": {"en": "A real/fake score.", "zh": "真假得分。"},
    "refs": [{"notebook": "04_gan_training", "section": "1. The game"}],
    "choices": {"en": ["An image", "A logit", "A noise vector"], "zh": ["一张图像", "一个 logit", "一个噪声向量"]},
    "correct": 1,
}

HARD = dict(CHOICE, id="gan-903", difficulty=3, question={"en": "Hard one?", "zh": "难题？"})

DESIGN = {
    "id": "sys-901",
    "topic": "system_design",
    "type": "design",
    "difficulty": 3,
    "question": {"en": "Design near-duplicate video search.", "zh": "设计近重复视频检索系统。"},
    "answer": {"en": "Embed keyframes, index them, verify candidates.", "zh": "提取关键帧嵌入，建立索引，再验证候选。"},
    "rubric": {
        "en": ["keyframes", "embeddings", "ANN index", "temporal alignment", "thresholds", "scale", "evaluation"],
        "zh": ["关键帧", "嵌入", "近似最近邻索引", "时间对齐", "阈值", "规模", "评估"],
    },
    "refs": [{"notebook": "05_video_architectures", "section": "1. Families"}],
}


def write_bank(folder: Path, items: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    by_topic: dict[str, list[dict]] = {}
    for q in items:
        by_topic.setdefault(q["topic"], []).append(q)
    for topic, qs in by_topic.items():
        data = {"topic": topic, "format": "video-dl-course/questions", "version": 1, "questions": qs}
        (folder / f"{topic}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def small_bank(tmp_path, monkeypatch):
    """The interview package reads a small bank (bug with alternatives, choices, design)."""
    folder = write_bank(tmp_path / "bank", [BUG, CHOICE, HARD, DESIGN])
    monkeypatch.setattr(bank_module, "BANK_DIR", folder)
    monkeypatch.setenv("VDL_PROGRESS", str(tmp_path / "progress.json"))
    bank_module.load_bank(reload=True)
    return folder

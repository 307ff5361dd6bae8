"""The interview prep's words: every UI string in English and Chinese, and small text helpers.

The bottom layer of :mod:`course_utils.interview` (standard library only, imports nothing
of the package). Introduced in notebook 09.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

LANGS = ("en", "zh")

_UI = {
    "en": {
        "question": "Question",
        "answer": "Answer",
        "explanation": "Why",
        "review": "Review",
        "correct": "Correct",
        "incorrect": "Incorrect",
        "invalid": "Invalid input",
        "show": "Show the answer",
        "difficulty": "difficulty",
        "choose": "Your choice (letter)",
        "number": "Your answer (a number)",
        "lines": "Faulty line numbers (e.g. 3, 5)",
        "code": "Write the function, then a line END",
        "knew": "Did you know it? [y/n]",
        "press_enter": "Press Enter to see the answer",
        "not_number": "Please type a number, e.g. 42 or 0.5.",
        "not_choice": "Please type one of the letters {letters}.",
        "not_lines": "Please type line numbers between 1 and {n}, separated by commas.",
        "not_points": "Please type the numbers of the points you covered, between 1 and {n} (0 for none).",
        "not_yn": "Please answer y or n.",
        "terminal_escape": " (or 'skip', 'quit')",
        "skipped": "Skipped.",
        "saved": "Progress saved to {path}.",
        "score": "Score: {c}/{n} answered correctly ({a} answered).",
        "time_up": "Time is up.",
        "report": "Mock interview report",
        "topic": "Topic",
        "to_review": "To review",
        "all_good": "Nothing to review: well done.",
        "interrupted": "Interrupted: saving what was answered.",
        "eof": "End of input: saving what was answered.",
        "self_graded": "Self-graded flashcard.",
        "line_one": "line {x}",
        "line_many": "lines {x}",
        "expected_one": "The faulty line is {x}.",
        "expected_many": "The faulty lines are {x}.",
        "also_accepted": "Also accepted: {x}.",
        "right_lines": "Right: {x}.",
        "missing_lines": "Missing: {x}.",
        "extra_lines": "Not faulty: {x}.",
        "several_fixes": "{x} are different fixes of the same bug: give one of them.",
        "fix": "Fix",
        "bank_missing": "The question bank is missing ({path}).",
        "design_prompt": "Think (or write) your answer, then compare it with the rubric.",
        "rubric": "Rubric: tick the points your answer covered",
        "design_points": "Points covered (e.g. 1 3 4; 0 for none)",
        "design_score": "You covered {k} of {n} points ({pct}%); {need} of {n} (70%) count as a pass.",
        "design_missed": "Not covered: {x}.",
        "model_answer": "Model answer",
        "first_counts": "Only your first answer counts for the score and the flashcards (it was {first}).",
        "reveal_rubric": "Show the model answer and the rubric",
        "notes": "Your answer (notes, optional)",
        "progress_counter": "Question {i}/{n}",
        "answered": "answered {a}",
        "check": "Check",
        "knew_btn": "I knew it",
        "forgot_btn": "I did not",
        "remember_btn": "I remembered",
        "forgot_card_btn": "I forgot",
        "finish": "Finish",
        "no_card": "No card is due: come back later.",
        "cards_left": "cards left",
        "new": "new",
        "boxes": "boxes",
        "new_card": "new card",
        "box": "box {b}",
        "code_ok": "All tests pass.",
        "code_no_run": "Your code does not run: {err}",
        "code_define": "Define a function named `{entry}`.",
        "code_pass_fn": "Pass the function `{entry}` itself, or its source code as a string.",
        "code_none": "`{entry}` returned None: did you forget a `return`?",
        "code_failed": "A test failed: {err}",
        "code_failed_bare": "A test failed.",
        "code_raised": "Your function raised {err}",
        "code_exit": "Your code called sys.exit() (or exit()): a function must return its result, not stop Python.",
    },
    "zh": {
        "question": "题目",
        "answer": "答案",
        "explanation": "解析",
        "review": "复习",
        "correct": "正确",
        "incorrect": "错误",
        "invalid": "输入无效",
        "show": "显示答案",
        "difficulty": "难度",
        "choose": "你的选择（字母）",
        "number": "你的答案（数字）",
        "lines": "有错误的行号（例如 3, 5）",
        "code": "写出函数，最后单独一行输入 END",
        "knew": "你答对了吗？[y/n]",
        "press_enter": "按回车键查看答案",
        "not_number": "请输入一个数字，例如 42 或 0.5。",
        "not_choice": "请输入 {letters} 中的一个字母。",
        "not_lines": "请输入 1 到 {n} 之间的行号，用逗号分隔。",
        "not_points": "请输入你答到的要点编号（1 到 {n}，一个都没有则输入 0）。",
        "not_yn": "请回答 y 或 n。",
        "terminal_escape": "（也可以输入 skip 跳过、quit 退出）",
        "skipped": "已跳过。",
        "saved": "进度已保存到 {path}。",
        "score": "得分：答对 {c}/{n} 题（已作答 {a} 题）。",
        "time_up": "时间到。",
        "report": "模拟面试报告",
        "topic": "主题",
        "to_review": "需要复习",
        "all_good": "没有需要复习的内容，做得好。",
        "interrupted": "已中断：正在保存已作答的题目。",
        "eof": "输入结束：正在保存已作答的题目。",
        "self_graded": "自评卡片。",
        "line_one": "第 {x} 行",
        "line_many": "第 {x} 行",
        "expected_one": "有错误的行是第 {x} 行。",
        "expected_many": "有错误的行是第 {x} 行。",
        "also_accepted": "另一种正确答案：{x}。",
        "right_lines": "找对了：{x}。",
        "missing_lines": "漏掉了：{x}。",
        "extra_lines": "没有错误：{x}。",
        "several_fixes": "{x}是同一个错误的不同改法：只需给出其中一种。",
        "fix": "修改",
        "bank_missing": "题库不存在（{path}）。",
        "design_prompt": "先思考（或写下）你的答案，再对照评分要点自评。",
        "rubric": "评分要点：勾选你的答案覆盖到的要点",
        "design_points": "答到的要点编号（例如 1 3 4；一个都没有输入 0）",
        "design_score": "你答到了 {n} 个要点中的 {k} 个（{pct}%）；答到 {need} 个（70%）即为通过。",
        "design_missed": "没有答到：{x}。",
        "model_answer": "参考答案",
        "first_counts": "只有第一次作答计入得分和闪卡（第一次：{first}）。",
        "reveal_rubric": "显示参考答案和评分要点",
        "notes": "你的答案（笔记，可选）",
        "progress_counter": "第 {i}/{n} 题",
        "answered": "已作答 {a}",
        "check": "提交",
        "knew_btn": "我答对了",
        "forgot_btn": "我没答对",
        "remember_btn": "我记得",
        "forgot_card_btn": "我忘了",
        "finish": "结束",
        "no_card": "没有到期的卡片，稍后再来。",
        "cards_left": "张待复习",
        "new": "新卡",
        "boxes": "盒子",
        "new_card": "新卡片",
        "box": "第 {b} 盒",
        "code_ok": "全部测试通过。",
        "code_no_run": "你的代码无法运行：{err}",
        "code_define": "请定义名为 `{entry}` 的函数。",
        "code_pass_fn": "请传入函数 `{entry}` 本身，或它的源代码字符串。",
        "code_none": "`{entry}` 返回了 None：是不是忘了 `return`？",
        "code_failed": "测试未通过：{err}",
        "code_failed_bare": "测试未通过。",
        "code_raised": "你的函数抛出了异常 {err}",
        "code_exit": "你的代码调用了 sys.exit()（或 exit()）：函数应当返回结果，而不是退出 Python。",
    },
}


def check_lang(lang: str) -> str:
    """``lang`` if it is ``"en"`` or ``"zh"``, else ValueError naming the argument."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def ui(lang: str, key: str, **kw: Any) -> str:
    """The UI string ``key`` in ``lang``, formatted with ``kw``."""
    return _UI[lang][key].format(**kw)


def colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def width(text: str) -> int:
    """Display width in a terminal (CJK characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def join_numbers(numbers: Iterable[int], lang: str = "en") -> str:
    """``[2]`` -> ``2``; ``[2, 4]`` -> ``2 and 4``; ``[2, 3, 4]`` -> ``2, 3 and 4`` (zh: ``2、3、4``)."""
    items = [str(n) for n in sorted(numbers)]
    if lang == "zh":
        return "、".join(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def lines_phrase(numbers: Iterable[int], lang: str = "en") -> str:
    """``line 4`` / ``lines 2 and 4`` (zh: ``第 4 行`` / ``第 2、4 行``)."""
    nums = sorted(numbers)
    return ui(lang, "line_one" if len(nums) == 1 else "line_many", x=join_numbers(nums, lang))


def expected_lines(numbers: Iterable[int], lang: str = "en") -> str:
    """``The faulty line is 4.`` / ``The faulty lines are 2 and 4.`` (grammatical, both languages)."""
    nums = sorted(numbers)
    return ui(lang, "expected_one" if len(nums) == 1 else "expected_many", x=join_numbers(nums, lang))

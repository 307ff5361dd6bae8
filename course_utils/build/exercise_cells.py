"""Find the exercise cells of a notebook and fill them with their reference solutions.

The reference solutions live in one place only: the lesson modules
(``course_utils/lessons/*.py``) and, for notebook 09, the code questions of the bank. This
module reads them through :meth:`Exercise.solution_text` (what ``solution()`` shows) and
writes them into copies of the notebooks; it never holds a solution of its own.

An exercise cell is a code cell with a statement ``<exercise>.check(<answer>)``, where
``<exercise>`` is ``alias.name`` for a module imported with
``from course_utils.lessons import module as alias``, or a variable assigned in the cell
from ``quiz.exercise("id")``. ``<answer>`` is the learner's function (or value).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import sys
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

from course_utils.exercises import Exercise

LESSONS = "course_utils.lessons"


@dataclass
class ExerciseCell:
    """One ``.check(answer)`` call in a code cell."""

    index: int  # the cell's index in the notebook
    exercise: Exercise
    owner: str  # "course_utils.lessons.convolution:output_size" or "quiz:metric-006"
    target: str  # the source text of the exercise expression, e.g. "ex.output_size"
    answer: str  # the learner's name, e.g. "my_output_size"
    check_line: int  # 1-based line of the check statement in the cell
    namespace: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        """A short stable id: the exercise's name."""
        return self.exercise.name


def _aliases(nb) -> tuple[dict[str, str], set[str]]:
    """Lesson module aliases (alias -> module name) and the names bound to course_utils.quiz."""
    lessons: dict[str, str] = {}
    quiz: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == LESSONS:
                for a in node.names:
                    lessons[a.asname or a.name] = f"{LESSONS}.{a.name}"
            elif isinstance(node, ast.ImportFrom) and node.module == "course_utils":
                for a in node.names:
                    if a.name == "quiz":
                        quiz.add(a.asname or a.name)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith(LESSONS + ".") and a.asname:
                        lessons[a.asname] = a.name
                    if a.name == "course_utils.quiz" and a.asname:
                        quiz.add(a.asname)
    return lessons, quiz


def find_exercise_cells(nb) -> list[ExerciseCell]:
    """Every ``.check(answer)`` of the notebook, in order."""
    lessons, quiz_names = _aliases(nb)
    found: list[ExerciseCell] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or ".check(" not in cell.source:
            continue
        tree = ast.parse(cell.source)
        assigned: dict[str, ast.expr] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                assigned[stmt.targets[0].id] = stmt.value
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "check"
                and len(call.args) == 1
                and isinstance(call.args[0], ast.Name)
            ):
                continue
            target = call.func.value
            ex = owner = ns = None
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in lessons
            ):
                module = importlib.import_module(lessons[target.value.id])
                ex = getattr(module, target.attr, None)
                owner, ns = f"{module.__name__}:{target.attr}", vars(module)
            elif isinstance(target, ast.Name) and target.id in assigned:
                value = assigned[target.id]
                if (
                    isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Attribute)
                    and isinstance(value.func.value, ast.Name)
                    and value.func.value.id in quiz_names
                    and value.func.attr == "exercise"
                    and value.args
                    and isinstance(value.args[0], ast.Constant)
                ):
                    from course_utils import quiz
                    from course_utils.interview.grading import _namespace

                    qid = value.args[0].value
                    ex, owner, ns = quiz.exercise(qid), f"quiz:{qid}", _namespace()
            if not isinstance(ex, Exercise):
                raise ValueError(
                    f"cell {i}: cannot find the exercise of `{ast.unparse(call)}` "
                    "(expected lesson_alias.name or a quiz.exercise(...) variable)"
                )
            found.append(
                ExerciseCell(i, ex, owner, ast.unparse(target), call.args[0].id, stmt.lineno, ns)
            )
    return found


# ------------------------------------------------------------------------ the solution
@dataclass
class Solution:
    """A reference solution ready to paste into a cell under the learner's name."""

    imports: list[str]  # import lines the solution's free names need
    code: str  # the full solution (a def renamed to the learner's name, or `name = value`)
    signature: str | None  # for a function: its def line(s), renamed
    body: str | None  # for a function: its body (docstring included), dedented
    is_function: bool


def _bound_names(tree: ast.AST) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def free_names(code: str) -> list[str]:
    """Names the code reads but does not define (builtins excluded), sorted."""
    tree = ast.parse(code)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(used - _bound_names(tree) - set(dir(builtins)))


def import_line(name: str, obj: Any, home: str) -> str:
    """The import statement that binds ``name`` to ``obj`` (found in module ``home``)."""
    if isinstance(obj, types.ModuleType):
        return f"import {obj.__name__}" if obj.__name__ == name else f"import {obj.__name__} as {name}"
    owner = getattr(obj, "__module__", None)
    if (
        isinstance(owner, str)
        and not owner.startswith("_")
        and getattr(sys.modules.get(owner), name, None) is obj
    ):
        return f"from {owner} import {name}"
    return f"from {home} import {name}"


def _rename_def(code: str, node: ast.FunctionDef, new: str) -> str:
    lines = code.splitlines()
    i = node.lineno - 1 + len(node.decorator_list)
    while not lines[i].lstrip().startswith(("def ", "async def ")):
        i += 1
    lines[i] = lines[i].replace(f"def {node.name}(", f"def {new}(", 1)
    return "\n".join(lines)


def solution_for(cell: ExerciseCell) -> Solution:
    """The exercise's reference solution (``solution_text()``) renamed to the learner's name."""
    text = cell.exercise.solution_text()
    tree = ast.parse(text)
    home = cell.owner.split(":")[0] if not cell.owner.startswith("quiz:") else "course_utils.quiz"
    imports = []
    for name in free_names(text):
        if name in cell.namespace:
            imports.append(import_line(name, cell.namespace[name], home))
    imports = sorted(set(imports), key=lambda line: (line.startswith("from "), line))
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not defs:
        if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
            code = f"{cell.answer} = {text}"
            return Solution(imports, code, None, None, False)
        raise ValueError(f"{cell.owner}: the solution is neither a function nor an expression")
    ref = getattr(cell.exercise.reference, "__name__", None)
    main = next((d for d in defs if d.name == ref), defs[-1])
    code = _rename_def(text, main, cell.answer)
    if main.name != cell.answer and any(
        isinstance(n, ast.Name) and n.id == main.name for n in ast.walk(tree)
    ):
        code += f"\n\n\n{main.name} = {cell.answer}"
    signature = body = None
    if len(defs) == 1 and len(tree.body) == 1 and main.body[0].lineno > main.lineno:
        lines = code.splitlines()
        start = main.lineno - 1
        ends = [main.lineno] + [n.end_lineno for n in ast.walk(main.args) if hasattr(n, "end_lineno")]
        if main.returns is not None:
            ends.append(main.returns.end_lineno)
        sig_end = max(ends) - 1
        while not lines[sig_end].split("#")[0].rstrip().endswith(":"):
            sig_end += 1
        signature = "\n".join(lines[start : sig_end + 1])
        body = textwrap.dedent("\n".join(lines[sig_end + 1 :]))
    return Solution(imports, code, signature, body, True)


def _definition_span(tree: ast.Module, name: str) -> tuple[int, int] | None:
    """1-based (first, last) lines of the top-level def or assignment of ``name``."""
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            first = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
            return first, stmt.end_lineno
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == name
        ):
            return stmt.lineno, stmt.end_lineno
    return None


def _check_line(tree: ast.Module, cell: ExerciseCell) -> int:
    want = f"{cell.target}.check({cell.answer})"
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and ast.unparse(stmt.value) == want:
            return stmt.lineno
    raise ValueError(f"cannot find `{want}` in the cell")


def _header(cell: ExerciseCell, edition: str) -> str:
    """The comment on top of a filled cell (nbgrader's is what learners will see)."""
    where = (
        f"the code question {cell.owner.split(':', 1)[1]} of the question bank"
        if cell.owner.startswith("quiz:")
        else f"{cell.owner.split(':')[0].replace('course_utils.', '')}.{cell.exercise.name}"
    )
    if edition == "nbgrader":
        return f"# Exercise: {where} (the check below runs the same cases as the autograder)"
    return f"# {edition}: the reference solution of {where} (inserted by the build)"


def fill_source(source: str, cells: list[ExerciseCell], mode: str = "instructor") -> str:
    """The cell's source with every answer replaced by its reference solution.

    ``mode="instructor"``: the plain solution. ``mode="nbgrader"``: the same, wrapped in
    ``### BEGIN SOLUTION`` / ``### END SOLUTION`` so that ``nbgrader generate_assignment``
    leaves the learner's stub (a function whose body is ``...``, or ``name = (...)``).
    """
    lines = source.splitlines()
    # replace from the bottom up so line numbers stay valid
    for cell in sorted(cells, key=lambda c: c.check_line, reverse=True):
        tree = ast.parse("\n".join(lines))
        sol = solution_for(cell)
        span = _definition_span(tree, cell.answer)
        edition = "Instructor edition" if mode == "instructor" else "nbgrader"
        block = [_header(cell, edition), *sol.imports, *([""] if sol.imports else [])]
        if mode == "instructor":
            block += sol.code.splitlines()
        elif sol.is_function and sol.signature is not None:
            stub_comments = []
            if span is not None:  # keep the learner stub's comments (shapes, contract)
                for line in lines[span[0] : span[1]]:
                    if line.strip().startswith("#") and "your code" not in line.lower():
                        stub_comments.append("    " + line.strip())
            block += sol.signature.splitlines() + stub_comments
            block += ["    ### BEGIN SOLUTION"]
            block += textwrap.indent(sol.body, "    ").splitlines()
            block += ["    ### END SOLUTION"]
        elif not sol.is_function:
            value = sol.code.split(" = ", 1)[1]
            block += [f"{cell.answer} = (", "    ### BEGIN SOLUTION"]
            block += textwrap.indent(value, "    ").splitlines()
            block += ["    ### END SOLUTION", ")"]
        else:
            block += ["### BEGIN SOLUTION", *sol.code.splitlines(), "### END SOLUTION"]
        if span is not None:
            lines[span[0] - 1 : span[1]] = block
        else:
            at = _check_line(tree, cell) - 1
            lines[at:at] = [*block, ""]
    return "\n".join(lines)

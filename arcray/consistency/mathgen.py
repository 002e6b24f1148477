"""A seeded generator of multi-step arithmetic word problems with GSM8K-style worked solutions.

GSM8K is not available offline; these stand in for it. Problem ``index`` of ``seed`` is drawn from
its own random stream, so it is the same whatever range it is asked in. Small parameter ranges
mean two indices can draw the same question (about 1 in 100), so the splits are made on the
question text: ``split="heldout"`` keeps the questions whose hash falls in one tenth of the hash
space and ``split="train"`` the rest, so no question is ever on both sides. Every problem is verified before it is returned: each ``<<expr=value>>`` step is re-computed and
the answer is a whole number.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import operator
import random
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Literal

NAMES = ("Maria", "James", "Aisha", "Chen", "Lucas", "Priya", "Omar", "Sofia", "Kenji", "Emma", "Diego", "Fatima",
         "Noah", "Lena", "Tariq", "Grace")
Split = Literal["all", "train", "heldout"]
HELDOUT_SHARE = 0.1
ITEMS = (("notebook", "notebooks"), ("pencil", "pencils"), ("apple", "apples"), ("sticker", "stickers"),
         ("ticket", "tickets"), ("muffin", "muffins"), ("marble", "marbles"), ("book", "books"))


@dataclass(frozen=True)
class MathProblem:
    """A word problem, its GSM8K-style solution (ending ``#### N``) and the integer answer."""

    id: str
    question: str
    solution: str
    answer: int


class _Steps:
    """Builds solution lines with GSM8K calculator annotations: ``3*4=<<3*4=12>>12``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def calc(self, expression: str) -> int:
        value = _evaluate(expression)
        if value != int(value):
            raise ArithmeticError(f"{expression} is not a whole number")
        return int(value)

    def say(self, text: str, expression: str) -> int:
        value = self.calc(expression)
        self.lines.append(f"{text} {expression} = <<{expression}={value}>>{value}.")
        return value

    def solution(self, answer: int) -> str:
        return "\n".join([*self.lines, f"#### {answer}"])


def _shopping(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name = rng.choice(NAMES)
    (one, many), (one2, many2) = rng.sample(ITEMS, 2)
    a, p, b, q = rng.randint(2, 9), rng.randint(2, 12), rng.randint(2, 9), rng.randint(1, 8)
    spent = a * p + b * q
    bill = next(v for v in (20, 50, 100, 200) if v > spent)
    question = (f"{name} buys {a} {many} at ${p} each and {b} {many2} at ${q} each. "
                f"{name} pays with a ${bill} bill. How much change, in dollars, does {name} get back?")
    first = s.say(f"The {many} cost", f"{a}*{p}")
    second = s.say(f"The {many2} cost", f"{b}*{q}")
    total = s.say("Together they cost", f"{first}+{second}")
    return question, s.say("The change is", f"{bill}-{total}")


def _baking(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name = rng.choice(NAMES)
    a, h, b, k = rng.randint(5, 30), rng.randint(2, 8), rng.randint(5, 30), rng.randint(2, 8)
    sold = rng.randint(1, a * h + b * k - 1)
    question = (f"A bakery run by {name} makes {a} loaves per hour for {h} hours on Monday and {b} loaves per hour "
                f"for {k} hours on Tuesday. It sells {sold} loaves. How many loaves are left?")
    monday = s.say("On Monday it makes", f"{a}*{h}")
    tuesday = s.say("On Tuesday it makes", f"{b}*{k}")
    made = s.say("In all it makes", f"{monday}+{tuesday}")
    return question, s.say("Loaves left:", f"{made}-{sold}")


def _sharing(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name, friend = rng.sample(NAMES, 2)
    one, many = rng.choice(ITEMS)
    parts, unit, bags = rng.choice((2, 3, 4, 5)), rng.randint(2, 12), rng.randint(2, 9)
    start = parts * unit  # giving away 1/parts leaves a whole number
    bought = (unit * (parts - 1) // bags + rng.randint(1, 4)) * bags - unit * (parts - 1)  # the total splits evenly
    question = (f"{name} has {start} {many}. {name} gives 1/{parts} of them to {friend}, then buys {bought} more, "
                f"and puts them equally into {bags} bags. How many {many} go in each bag?")
    given = s.say(f"{name} gives away", f"{start}/{parts}")
    kept = s.say(f"{name} keeps", f"{start}-{given}")
    total = s.say("After buying more there are", f"{kept}+{bought}")
    return question, s.say("Each bag gets", f"{total}/{bags}")


def _savings(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name = rng.choice(NAMES)
    share, weeks = rng.choice((2, 4, 5)), rng.randint(3, 12)
    wage = share * rng.randint(5, 60)
    spent = rng.randint(1, wage // share * weeks - 1)
    question = (f"{name} earns ${wage} a week and saves 1/{share} of it. After {weeks} weeks {name} spends ${spent} "
                f"of the savings on a bike. How many dollars of savings are left?")
    per_week = s.say(f"{name} saves", f"{wage}/{share}")
    saved = s.say(f"In {weeks} weeks that is", f"{per_week}*{weeks}")
    return question, s.say("Left after the bike:", f"{saved}-{spent}")


def _ages(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name, sister = rng.sample(NAMES, 2)
    age, times, years = rng.randint(3, 15), rng.randint(2, 4), rng.randint(2, 20)
    question = (f"{name} is {age} years old. {sister} is {times} times as old as {name}. "
                f"What will the sum of their ages be in {years} years?")
    older = s.say(f"{sister} is", f"{age}*{times}")
    now = s.say("Together they are now", f"{age}+{older}")
    return question, s.say(f"In {years} years each is {years} older:", f"{now}+2*{years}")


def _travel(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name = rng.choice(NAMES)
    v, t, u, w = rng.randint(4, 12) * 10, rng.randint(1, 5), rng.randint(3, 9) * 10, rng.randint(1, 4)
    question = (f"{name} drives at {v} km per hour for {t} hours, then at {u} km per hour for {w} hours. "
                f"How many kilometres does {name} drive in total?")
    first = s.say("The first part is", f"{v}*{t}")
    second = s.say("The second part is", f"{u}*{w}")
    return question, s.say("In total", f"{first}+{second}")


def _orchard(rng: random.Random, s: _Steps) -> tuple[str, int]:
    rows, per_row, per_tree = rng.randint(3, 12), rng.randint(4, 15), rng.randint(1, 6) * 20  # any percent below is whole
    percent = rng.choice((10, 20, 25, 50, 75))
    question = (f"An orchard has {rows} rows of {per_row} apple trees. Each tree gives {per_tree} apples. "
                f"{percent}% of the apples are sold at the market. How many apples are not sold?")
    trees = s.say("There are", f"{rows}*{per_row}")
    apples = s.say("They give", f"{trees}*{per_tree}")
    sold = s.say("Sold:", f"{apples}*{percent}/100")
    return question, s.say("Not sold:", f"{apples}-{sold}")


def _reading(rng: random.Random, s: _Steps) -> tuple[str, int]:
    name = rng.choice(NAMES)
    per_day, days, rest_days = rng.randint(5, 30), rng.randint(2, 7), rng.randint(2, 6)
    rest_per_day = rng.randint(5, 40)
    pages = per_day * days + rest_per_day * rest_days
    question = (f"A book has {pages} pages. {name} reads {per_day} pages a day for {days} days, then wants to finish "
                f"the book in {rest_days} more days, reading the same number of pages each day. "
                f"How many pages a day must {name} read?")
    read = s.say(f"{name} reads", f"{per_day}*{days}")
    left = s.say("Pages left:", f"{pages}-{read}")
    return question, s.say("Pages a day:", f"{left}/{rest_days}")


TEMPLATES: tuple[Callable[[random.Random, _Steps], tuple[str, int]], ...] = (
    _shopping, _baking, _sharing, _savings, _ages, _travel, _orchard, _reading,
)


def math_problem(seed: int, index: int) -> MathProblem:
    """Problem ``index`` of the stream ``seed``: the same on every machine and every call."""
    rng = random.Random(f"arcray-math:{seed}:{index}")
    template = rng.choice(TEMPLATES)
    steps = _Steps()
    question, answer = template(rng, steps)
    problem = MathProblem(id=f"arith-{seed}-{index}", question=question, solution=steps.solution(answer), answer=answer)
    verify(problem)
    return problem


def math_problems(seed: int = 0, start: int = 0, count: int = 100, split: Split = "all") -> list[MathProblem]:
    """Problems ``start`` .. ``start + count - 1`` of the stream ``seed``, counted within ``split``."""
    return list(itertools.islice(iter_math_problems(seed, split), start, start + count))


def iter_math_problems(seed: int = 0, split: Split = "all") -> Iterator[MathProblem]:
    """The endless stream of problems of ``seed`` that belong to ``split``."""
    for index in itertools.count():
        problem = math_problem(seed, index)
        if split == "all" or (split == "heldout") == in_heldout(problem.question):
            yield problem


def in_heldout(question: str) -> bool:
    """Whether a question belongs to the held-out split (by its text, so duplicates agree)."""
    digest = hashlib.sha256(question.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < HELDOUT_SHARE


_CALC = re.compile(r"<<([^=<>]+)=([^<>]+)>>")


def verify(problem: MathProblem) -> None:
    """Re-compute every annotated step; the final line must be ``#### answer``, a whole number ≥ 0."""
    for expression, value in _CALC.findall(problem.solution):
        if _evaluate(expression) != float(value):
            raise ArithmeticError(f"{problem.id}: {expression} is not {value}")
    if not problem.solution.endswith(f"#### {problem.answer}") or problem.answer < 0:
        raise ArithmeticError(f"{problem.id}: the answer {problem.answer} is not the solution's final line")


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _evaluate(expression: str) -> float:
    """+ - * / on integers, nothing else (no eval)."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"unsupported expression {expression!r}")

    return walk(ast.parse(expression, mode="eval").body)

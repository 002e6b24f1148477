"""The built-in MATH generators (arith, arith-1step): seeded, verified, GSM8K-shaped, and splittable without overlap."""

import itertools
import re

from arcray.consistency import DatasetSpec, in_heldout, load_problems, math_problem, math_problems
from arcray.consistency.extract import extract_number
from arcray.consistency.mathgen import verify


def test_same_seed_and_index_same_problem_whatever_the_range():
    assert math_problems(seed=3, start=0, count=30)[17] == math_problem(3, 17) == math_problems(seed=3, start=17, count=1)[0]
    assert math_problem(0, 0) != math_problem(1, 0)


def test_every_problem_is_verified_and_gsm8k_shaped():
    for problem in math_problems(seed=0, count=300):
        verify(problem)
        assert problem.solution.splitlines()[-1] == f"#### {problem.answer}"
        assert "<<" in problem.solution and problem.answer >= 0
        assert extract_number(problem.solution) == str(problem.answer)  # the reference parses as an answer


def test_train_and_heldout_never_share_a_question():
    train = {p.question for p in math_problems(seed=0, count=1500, split="train")}
    heldout = math_problems(seed=0, count=60, split="heldout")
    assert all(in_heldout(p.question) for p in heldout)
    assert not train & {p.question for p in heldout}


def test_problems_as_a_dataset():
    problems = load_problems(DatasetSpec(source="arith", offset=5, limit=3, seed=2))
    assert [p.id for p in problems] == ["arith-2-5", "arith-2-6", "arith-2-7"]
    first = problems[0]
    assert first.category == "math" and first.reference == str(math_problem(2, 5).answer)
    assert first.prompt[0]["role"] == "user" and "####" in first.prompt[0]["content"]


def test_one_step_family_is_seeded_split_and_verified():
    from arcray.consistency.onestep import iter_one_step_problems, one_step_problem

    assert one_step_problem(0, 7) == one_step_problem(0, 7) != one_step_problem(1, 7)
    train = list(itertools.islice(iter_one_step_problems(0, "train"), 1500))
    heldout = list(itertools.islice(iter_one_step_problems(0, "heldout"), 120))
    assert all(in_heldout(p.question) for p in heldout) and not {p.question for p in train} & {p.question for p in heldout}
    assert len({p.question for p in heldout}) == len(heldout)  # a range never repeats a prompt
    for problem in heldout + train[:200]:
        verify(problem)
        a, op, b = _OPERANDS.search(problem.solution).groups()
        assert op == "+" and problem.answer == int(a) + int(b)


def test_one_step_family_as_a_dataset_with_short_prompts():
    problems = load_problems(DatasetSpec(source="arith-1step", split="heldout", offset=2, limit=3, seed=0))
    assert len(problems) == 3 and all(p.id.startswith("arith-1step-0-") for p in problems)
    text = problems[0].prompt[0]["content"]
    assert "####" in text and "step by step" not in text
    assert extract_number(problems[0].solution) == problems[0].reference


_OPERANDS = re.compile(r"<<(\d+)([+-])(\d+)=")

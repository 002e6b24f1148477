"""HumanEval judged in the sandbox: reference solutions pass, wrong ones fail, hostile ones are contained."""

import pytest

from arcray.consistency import DatasetSpec, Judge, load_problems


@pytest.fixture(scope="module")
def humaneval():
    return load_problems(DatasetSpec(source="humaneval"))


@pytest.fixture(scope="module")
def judge():
    with Judge(code_timeout_s=3.0) as judge:
        yield judge


def fenced(code):
    return f"Here is the function:\n```python\n{code}\n```\n"


def test_every_reference_solution_passes(humaneval, judge):
    assert len(humaneval) == 164
    failed = [(p.id, a.outcome) for p in humaneval for a in [judge.answer(p, fenced(p.solution))] if not a.correct]
    assert failed == []


def test_wrong_solutions_fail(humaneval, judge):
    for problem in humaneval[:10]:
        wrong = fenced(problem.preamble + "    return None\n")
        answer = judge.answer(problem, wrong)
        assert answer.correct is False and answer.outcome.startswith("exception"), (problem.id, answer)


def test_a_bare_body_completes_the_signature(humaneval, judge):
    problem = humaneval[0]
    assert judge.answer(problem, problem.solution[len(problem.preamble):]).correct


def test_broken_hanging_and_hostile_code_fails_safely(humaneval, judge):
    problem = humaneval[0]
    header = "def has_close_elements(numbers, threshold):\n"
    cases = {
        "invalid_code": header + "    return (\n",
        "timeout": header + "    while True:\n        pass\n",
        "exception": "import os\n" + header + "    os.system('true')\n    return True\n",
    }
    for kind, code in cases.items():
        answer = judge.answer(problem, fenced(code))
        assert answer.correct is False and answer.outcome.startswith(kind), (kind, answer)


def test_identical_programs_run_once_and_vote_by_normal_form(humaneval, judge):
    problem = humaneval[2]
    same = [fenced(problem.solution), fenced(problem.solution + "\n# a comment\n")]
    answers = judge.answers(problem, same + [None])
    assert answers[0].key == answers[1].key and answers[0].correct and answers[1].correct
    assert answers[2].key is None and answers[2].correct is False

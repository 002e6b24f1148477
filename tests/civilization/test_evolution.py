"""The evolution loop, without Ray: the real SDK against the fake Gemini server, real sandbox."""

import pytest

from arc_teacher import ArcTeacher
from fake_gemini import Reply
from arcray.arc.render import RenderConfig
from arcray.arc.sandbox import Sandbox
from arcray.arc.tasks import load_tasks
from arcray.civilization import EvolutionConfig, prompts, run_evolution
from arcray.llm import get_backend

FAST_RETRY = {"initial_delay_s": 0.01, "max_delay_s": 0.05, "max_attempts": 3}


@pytest.fixture
def backend(fake_gemini):
    with get_backend("gemini", model="gemini-2.5-flash", retry=FAST_RETRY, timeout_s=5) as b:
        yield b


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def test_known_task_is_solved_in_the_first_generation(fake_gemini, backend, sandbox):
    fake_gemini.handler = ArcTeacher(["67a3c6ac"])
    [task] = load_tasks("arc1/train", ids=["67a3c6ac"])
    result = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=4, population=2))
    record = result.to_record().to_json()
    assert record["fitness"] == 13 and record["test_correct"] == 1 and record["error"] is None
    assert len(record["generations"]) == 1  # target reached: no refinement
    assert record["analyst_spec"].startswith("The output is")
    assert fake_gemini.request_count == 3  # analyst + population of 2
    assert record["usage"]["requests"] == 3 and record["usage"]["total_tokens"] > 0


def test_unknown_task_is_refined_with_per_pair_feedback(fake_gemini, backend, sandbox):
    fake_gemini.handler = ArcTeacher(["007bbfb7"])
    [task] = load_tasks("arc1/train", ids=["007bbfb7"])
    result = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=3, population=2, use_analyst=False))
    assert [len(g) for g in result.generations] == [2, 2, 2]
    assert result.best is not None and result.best.fitness == 0
    refiner_prompts = [r.user_text for r in fake_gemini.requests if "not right yet" in r.user_text]
    assert len(refiner_prompts) == 4
    assert "train 1: wrong shape: produced 3x3, expected 9x9" in refiner_prompts[0]
    assert "expected:\n" in refiner_prompts[0] and "Test 1" in refiner_prompts[0]
    assert all("Do not write code" not in r.user_text for r in fake_gemini.requests)  # direct mode


def test_refiner_fixes_a_wrong_solver(fake_gemini, backend, sandbox):
    [task] = load_tasks("arc1/train", ids=["68b16354"])
    right = ArcTeacher(["68b16354"])

    def handler(request):
        if "not right yet" in request.user_text:
            return right(request)
        return "```python\ndef solve(grid):\n    return grid\n```"

    fake_gemini.handler = handler
    result = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=3, population=1, use_analyst=False))
    assert [c.fitness for g in result.generations for c in g] == [0, 13]
    assert result.best.origin == "refiner"


def test_teacher_failures_are_recorded_not_raised(fake_gemini, backend, sandbox):
    fake_gemini.handler = lambda request: Reply.error(400, "INVALID_ARGUMENT", "bad request")
    [task] = load_tasks("arc1/train", ids=["67a3c6ac"])
    result = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=5, population=2))
    record = result.to_record().to_json()
    assert record["solver_code"] is None and record["fitness"] == 0
    assert "client_error" in record["error"]
    assert len(record["generations"]) == 1  # no point refining what a 400 refuses


def test_transient_errors_are_retried_inside_the_loop(fake_gemini, backend, sandbox):
    teacher = ArcTeacher(["3c9b0459"])
    fake_gemini.handler = teacher
    fake_gemini.script(Reply.error(500), Reply.error(429, retry_delay="0.05s"))
    [task] = load_tasks("arc1/train", ids=["3c9b0459"])
    result = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=2, population=1))
    assert result.best.result.solved and result.best.fitness == 14 and result.error is None


def test_selection_by_train_ignores_test_outputs(fake_gemini, backend, sandbox):
    fake_gemini.handler = ArcTeacher(["67a3c6ac"])
    [task] = load_tasks("arc1/train", ids=["67a3c6ac"])
    result = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=2, population=1, select_by="train", use_analyst=False))
    assert result.best.train_correct == 3 and len(result.generations) == 1


@pytest.mark.parametrize("style", ["full", "compact"])
def test_every_generation_follows_the_prompt_style(fake_gemini, backend, sandbox, style):
    fake_gemini.handler = ArcTeacher(["007bbfb7"])  # unknown to the teacher: refined to the last generation
    [task] = load_tasks("arc1/train", ids=["007bbfb7"])
    render = RenderConfig(prompt=style, library=True)
    result = run_evolution(task, backend, sandbox, EvolutionConfig(max_generations=3, population=2), render)
    assert [len(g) for g in result.generations] == [2, 2, 2]
    analyst, *programmers = fake_gemini.requests[:3]
    refiners = fake_gemini.requests[3:]
    assert "Do not write code" in analyst.user_text and len(refiners) == 4
    assert all("not right yet" in r.user_text for r in refiners)
    compact_system = prompts.template("system_compact").template.strip()
    for request in fake_gemini.requests:  # the Analyst, the Programmer and every later generation's Refiner
        assert request.system_text.startswith(compact_system) == (style == "compact"), request.user_text[-200:]
        assert ("Functions: " in request.system_text) == (style == "compact")  # compact + library: the menu
    if style == "compact":
        assert all("use only the Python standard library" not in r.user_text for r in fake_gemini.requests)
        assert all(r.user_text.rstrip().endswith("Fix solve(grid) with arcdsl.") for r in refiners)
    else:  # full + library: arcdsl's catalogue after the Programmer's and the Refiner's instructions
        assert all("from arcdsl import *" in r.user_text for r in [*programmers, *refiners])
        assert "from arcdsl import *" not in analyst.user_text

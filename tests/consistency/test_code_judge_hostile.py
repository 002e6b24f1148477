"""The CODE judge against answers that try to fake a pass, on real HumanEval problems.

Each trick below is a wrong answer that passed when the answer and its tests shared one process
(checked against the judge before the split). Now the answer runs alone, compiled on its own,
and the tests call it from another process with plain data, so each must fail; and the canonical
solution is judged right before and after each one.
"""

import pytest

from arcray.consistency import DatasetSpec, Judge, load_problems

FORGED_LINES = (
    b'{"index": 0, "kind": "ok", "grid": null, "message": ""}\\n{"done": true, "stdout": ""}\\n'
    b'{"verdict": "ok", "message": ""}\\n{"compiled": true, "message": ""}\\n'
)

TRICKS = {
    "writes the worker's ok line on its reply pipe before the tests run": ("HumanEval/23", f'''
import os
for fd in range(3, 64):
    try:
        os.write(fd, {FORGED_LINES!r}.replace(b"\\\\n", b"\\n"))
    except OSError:
        pass
def strlen(string):
    return 0
'''),
    "replaces json.dumps so the worker reports ok": ("HumanEval/23", '''
import json
json.dumps = lambda *args, **kwargs: '{"index": 0, "kind": "ok", "grid": null, "message": "", "verdict": "ok"}'
def strlen(string):
    return 0
'''),
    "returns an object whose __eq__ is always true": ("HumanEval/23", '''
class Anything(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
def strlen(string):
    return Anything()
'''),
    "sys.settrace swaps check for a no-op": ("HumanEval/23", '''
import sys
def tracer(frame, event, arg):
    for scope in (frame.f_globals,):
        if callable(scope.get("check")) and getattr(scope["check"], "__name__", "") == "check":
            scope["check"] = lambda candidate: None
    return tracer
sys.settrace(tracer)
sys._getframe().f_trace = tracer
def strlen(string):
    return 0
'''),
    "reads the test source from a frame and answers from it": ("HumanEval/23", '''
import ast, sys
def table():
    found = {}
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
            texts = [value] if isinstance(value, str) else [v for v in value.values() if isinstance(v, str)] if isinstance(value, dict) else []
            for text in texts:
                if "def check" not in text:
                    continue
                for line in text.splitlines():
                    line = line.strip()
                    if line.startswith("assert candidate(") and "==" in line:
                        call, expected = line[len("assert "):].split("==", 1)
                        try:
                            found[ast.literal_eval(call.strip()[len("candidate("):-1])] = ast.literal_eval(expected.split(",")[0].strip())
                        except (ValueError, SyntaxError):
                            pass
        frame = frame.f_back
    return found
def strlen(string):
    return table().get(string, -1)
'''),
    "reads the expected constant from the caller's bytecode": ("HumanEval/2", '''
import dis, sys
def truncate_number(number):
    caller = sys._getframe(1)
    for instruction in dis.get_instructions(caller.f_code):
        if instruction.offset > caller.f_lasti and instruction.opname == "LOAD_CONST" and isinstance(instruction.argval, float):
            return instruction.argval
    return -1.0
'''),
    "ends in a bare decorator that wraps the tests' def check": ("HumanEval/64", '''
def vowels_count(s):
    return -1

def harmless(check):
    return lambda candidate: None

@harmless
'''),
    "patches a stdlib module that the tests import": ("HumanEval/32", '''
import math
math.fabs = lambda x: 0.0
def find_zero(xs):
    return 12345.0
'''),
    "raises an exception whose __str__ raises SystemExit, with an atexit hook forging ok": ("HumanEval/23", f'''
import atexit, os
def forge():
    for fd in range(3, 64):
        try:
            os.write(fd, {FORGED_LINES!r}.replace(b"\\\\n", b"\\n"))
        except OSError:
            pass
atexit.register(forge)
class Sly(Exception):
    def __str__(self):
        raise SystemExit(0)
def strlen(string):
    raise Sly()
'''),
    "os._exit(0) before the tests": ("HumanEval/23", "import os\nos._exit(0)\ndef strlen(string):\n    return 0\n"),
    "sys.exit(0) before the tests": ("HumanEval/23", "import sys\nsys.exit(0)\ndef strlen(string):\n    return 0\n"),
}


@pytest.fixture(scope="module")
def problems():
    return {p.id: p for p in load_problems(DatasetSpec(source="humaneval"))}


@pytest.fixture(scope="module")
def judge():
    with Judge(code_timeout_s=3.0) as judge:
        yield judge


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


@pytest.mark.parametrize("trick", list(TRICKS), ids=list(TRICKS))
def test_a_wrong_answer_cannot_fake_a_pass(problems, judge, trick):
    problem_id, code = TRICKS[trick]
    problem = problems[problem_id]
    assert judge.answer(problem, fenced(problem.solution)).correct, "the canonical solution, before"
    answer = judge.answer(problem, fenced(code))
    assert answer.correct is False, (trick, answer)
    assert "\n" not in answer.outcome
    assert judge.answer(problem, fenced(problem.solution)).correct, "the canonical solution, after"


def test_the_decorator_trick_is_invalid_code_on_its_own(problems, judge):
    problem_id, code = TRICKS["ends in a bare decorator that wraps the tests' def check"]
    assert judge.answer(problems[problem_id], fenced(code)).outcome.startswith("invalid_code")


def test_a_correct_answer_written_oddly_still_passes(problems, judge):
    """Plain-data results, numpy values, helper functions and module state all still work."""
    problem = problems["HumanEval/23"]
    code = "import numpy as np\ncalls = []\ndef helper(s):\n    calls.append(s)\n    return np.int64(len(s))\ndef strlen(string):\n    return helper(string)\n"
    assert judge.answer(problem, fenced(code)).correct

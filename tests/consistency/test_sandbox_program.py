"""Sandbox.run_program: whole programs (solution + tests) in the same confinement as solve(grid)."""

import pytest

from arcray.arc.sandbox import Sandbox

GOOD_SOLVER = "def solve(grid):\n    return [row[::-1] for row in grid]\n"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(timeout_s=1.0, memory_mb=256) as sb:
        yield sb


@pytest.mark.parametrize("code, kind", [
    ("def f(x):\n    return x + 1\nassert f(1) == 2\n", "ok"),
    ("def f(x):\n    return x\nassert f(1) == 2, 'f(1) should be 2'\n", "exception"),
    ("while True:\n    pass\n", "timeout"),
    ("def f(:\n", "invalid_code"),
    ("x = bytearray(2 ** 40)\n", "memory"),
    ("import socket\nsocket.socket()\n", "exception"),
    ("open('/etc/passwd').read()\n", "exception"),
    ("raise SystemExit(0)\n", "exception"),
])
def test_program_outcomes(sandbox, code, kind):
    outcome = sandbox.run_program(code)
    assert outcome.kind == kind, outcome
    assert outcome.grid is None
    # the solver protocol is untouched afterwards
    assert sandbox.run(GOOD_SOLVER, [[[1, 2]]])[0].grid == [[2, 1]]


def test_program_failure_message_and_printed_output(sandbox):
    outcome = sandbox.run_program("print('hello')\nassert 1 == 2, 'one is not two'\n")
    assert outcome.message == "AssertionError: one is not two"
    assert "hello" in sandbox.last_stdout
    assert sandbox.run_program("pass").describe() == "ran to the end"


def test_program_timeout_is_per_call(sandbox):
    assert sandbox.run_program("import time\ntime.sleep(0.3)\n", timeout_s=2.0).ok

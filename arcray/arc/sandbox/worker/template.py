"""The template: the warm process every evaluation is forked from, which never holds one.

It is forked by the supervisor before the first request is read, imports what every child
should find warm (numpy, arcdsl, the seccomp program), freezes its heap and then only ever
receives one kind of message: "fork", with the child's descriptors attached (SCM_RIGHTS). It
never reads a request, a reply, a grid or a line of code, so no child can find an earlier
evaluation in the memory it starts with. It reaps its children and reports each exit status
to the supervisor, which decides every verdict.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
from types import SimpleNamespace

PR_SET_PDEATHSIG = 1


def main(control: socket.socket, preload: list[str]) -> None:
    """Runs in the forked template; never returns."""
    warm = _warm_up(preload)
    if warm.libc is not None:
        warm.libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the supervisor's death ends it
    import child  # the children's code, imported once here
    import code_judge
    import solve

    roles = {"solve": solve.run, "candidate": code_judge.answer, "tests": code_judge.tests}

    wake_read, wake_write = os.pipe()
    for fd in (wake_read, wake_write):
        os.set_blocking(fd, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_write)
    gc.freeze()  # children share the warm heap without the collector dirtying its pages
    _tell(control, {"ready": True, "seccomp": warm.seccomp is not None})
    while True:
        readable = select.select([control, wake_read], [], [])[0]
        if wake_read in readable:
            _drain(wake_read)
            _report_exits(control)
        if control in readable:
            message, fds, _, _ = socket.recv_fds(control, 16, 8)
            if not message:
                os._exit(0)  # the supervisor is gone
            pid = os.fork()
            if pid == 0:
                control.close()
                child.main(fds, warm, roles)
            for fd in fds:
                os.close(fd)
            _tell(control, {"forked": pid})


def _warm_up(preload: list[str]) -> SimpleNamespace:
    import numpy  # noqa: F401  every child starts with numpy imported

    for package in preload:
        if package and package not in sys.modules:
            try:  # warm too (arcdsl), and read now, before the guards that limit what a child may open
                __import__(package)
            except ImportError:
                pass  # a solver importing it gets the ImportError itself
    import guards

    seccomp = _import_seccomp()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        ctypes = libc = None
    try:
        program = guards.compile_filter(seccomp, ctypes if libc is not None else None)
    except (OSError, RuntimeError, ValueError):  # an unusual kernel: the namespaces and audit hook still hold
        program = None
    roots = tuple(os.path.realpath(p) for p in sys.path if p and os.path.isdir(p))
    return SimpleNamespace(seccomp=program, libc=libc, ctypes=ctypes, code_roots=roots)


def _import_seccomp():
    """pyseccomp, or None. It finds libseccomp with ctypes.util.find_library, which runs
    ``ldconfig``/``gcc``; the sandbox's view has neither, so the stable sonames are given."""
    import ctypes.util

    find = ctypes.util.find_library
    ctypes.util.find_library = lambda name: {"c": "libc.so.6", "seccomp": "libseccomp.so.2"}.get(name) or find(name)
    try:
        import pyseccomp
    except (ImportError, OSError, RuntimeError):  # libseccomp missing: namespaces and audit hook still hold
        return None
    finally:
        ctypes.util.find_library = find
    return pyseccomp


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _report_exits(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _tell(control, {"exited": pid, "status": status})


def _tell(control: socket.socket, message: dict) -> None:
    control.sendall(json.dumps(message).encode())

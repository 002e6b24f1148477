"""The sandbox worker: a warm interpreter that forks one confined child per evaluation.

Run as a standalone script (``python -I _zygote.py --scratch DIR [--site DIR] [--preload a,b]``) by
:mod:`arcray.arc.sandbox.pool`, inside the bubblewrap sandbox that
:mod:`arcray.arc.sandbox.confine` describes; it imports nothing from arcray, so neither it nor
the solver it runs can reach arcray.

Protocol: one JSON request per line on stdin, one JSON reply per line on the private
reply fd (the original stdout, which is pointed at /dev/null for everything else).
Each evaluation runs in a fresh child forked from this warm process, so a solver can
never poison the next one, and a timeout or crash costs a fork, not a cold start.

Confinement of the child, in layers (inside the operating system's, which holds them all):
- not dumpable (nothing of the same user can open its or this worker's memory);
- its own session and process group (killed as a group), parent-death signal;
- rlimits: address space, file size, open files, no core dumps;
- seccomp (libseccomp, when present): no fork/exec, no signals to others, no sockets,
  no ptrace, no namespace or rlimit changes;
- a Python audit hook: writes only inside a private temporary folder, reads only of
  code files and that folder, no sockets, processes, signals, ctypes or arcray import;
- stdout/stderr captured into a capped buffer; the OS-level fds go to /dev/null.

The scratch folder is emptied after every child, so nothing one solver writes is there for the
next. What a child sends back is parsed bounded (4 MiB, no deep nesting) and re-checked before
it is passed on; the caller checks it all again.
"""

from __future__ import annotations

import builtins
import errno
import gc
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time

if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # the script's folder is not the solver's to import from


def _option(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv[:-1] else None


_SITE = _option("--site")
if _SITE:
    sys.path.insert(0, _SITE)  # the packages the view holds for solvers (numpy)

import numpy as np  # warm: every child starts with numpy already imported

for _package in (_option("--preload") or "").split(","):
    if _package and _package not in sys.modules:
        try:  # warm too (arcdsl), and read now, before the guards that limit what a child may open
            __import__(_package)
        except ImportError:
            pass  # a solver importing it gets the ImportError itself

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


_seccomp = _import_seccomp()

try:
    import ctypes as _ctypes

    _libc = _ctypes.CDLL(None, use_errno=True)
except (ImportError, OSError):
    _libc = None

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
REPLY_LIMIT = 4 * 1024 * 1024  # bytes a child may send back; more is a crash
CODE_SUFFIXES = (".py", ".pyc", ".pyi", ".so", ".pth", ".typed")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
MAX_SIDE = 30
MESSAGE_LIMIT = 2000
KINDS = ("ok", "timeout", "exception", "memory", "not_grid", "bad_shape", "invalid_code", "crash")
_DENIED_PREFIXES = (
    "socket.", "ctypes.", "subprocess.", "os.fork", "os.exec", "os.posix_spawn", "os.spawn",
    "os.system", "os.kill", "os.killpg", "signal.pthread_kill", "resource.setrlimit", "resource.prlimit",
    "sys.addaudithook", "sqlite3.", "webbrowser.", "urllib.", "os.setuid", "os.setgid", "os.setre",
    "os.setres", "os.setgroups", "os.unshare", "os.setns", "os.startfile", "pty.",
)
_PATH_EVENTS = {
    "os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.rename": 2, "os.link": 2, "os.symlink": 2,
    "os.chmod": 1, "os.chown": 1, "os.truncate": 1, "os.utime": 1, "os.chflags": 1, "os.mkfifo": 1,
    "os.mknod": 1, "os.lchown": 1, "os.setxattr": 1, "os.removexattr": 1, "shutil.rmtree": 1,
    "shutil.copyfile": 2, "shutil.copymode": 2, "shutil.copystat": 2, "shutil.move": 2,
}


# ---------------------------------------------------------------- the child

class _CappedText:
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        note = f"\n[... {self.dropped} more characters dropped]" if self.dropped else ""
        return "".join(self.parts) + note


def _within(path, root: str) -> bool:
    if isinstance(path, int):
        return True  # an fd the child already holds
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == root or real.startswith(root + os.sep)


def _make_audit_hook(workdir: str, code_roots: tuple[str, ...]):
    def deny(event: str, why: str = "is not allowed in the sandbox"):
        raise PermissionError(f"sandbox: {event} {why}")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(m in mode for m in "wax+")) or bool((flags or 0) & WRITE_FLAGS)
            if path is None or isinstance(path, int) or _within(path, workdir):
                return
            if writes:
                deny("writing", f"outside the sandbox's private folder is not allowed ({os.fsdecode(path)!r})")
            name = os.fsdecode(path)
            if name in ("/dev/null", "/dev/urandom") or os.path.isdir(name):
                return
            if name.endswith(CODE_SUFFIXES) and any(_within(name, root) for root in code_roots):
                return
            deny("reading", f"{name!r} is not allowed (only code files and the private folder)")
        elif event == "import":
            module = args[0] or ""
            if module == "arcray" or module.startswith("arcray."):
                raise ImportError("sandbox: solvers must be self-contained; arcray cannot be imported here")
            if module in ("ctypes", "_ctypes", "_posixsubprocess", "multiprocessing"):
                deny(f"import {module}")
        elif event in _PATH_EVENTS:
            for path in args[: _PATH_EVENTS[event]]:
                if not _within(path, workdir):
                    deny(event, f"outside the sandbox's private folder is not allowed ({path!r})")
        elif event.startswith(_DENIED_PREFIXES):
            deny(event)

    return hook


PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
_DENIED_SYSCALLS = (
    "fork", "vfork", "execve", "execveat", "kill", "tkill", "tgkill", "pidfd_send_signal",
    "pidfd_open", "pidfd_getfd", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "socket", "socketpair",
    "ptrace", "process_vm_readv", "process_vm_writev", "setrlimit", "prlimit64", "unshare", "setns",
    "mount", "umount2", "chroot", "pivot_root", "keyctl", "bpf", "perf_event_open", "io_uring_setup",
    "userfaultfd", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "mknod", "mknodat", "open_by_handle_at", "name_to_handle_at", "add_key", "request_key", "init_module",
    "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
    "process_madvise", "syslog", "vhangup", "iopl", "ioperm", "personality",
)


def _compile_seccomp():
    """The child's syscall filter as a ready BPF program (compiled once, loaded per child)."""
    if _seccomp is None or _libc is None:
        return None
    eperm = _seccomp.ERRNO(errno.EPERM)
    rules = _seccomp.SyscallFilter(_seccomp.ALLOW)
    for name in _DENIED_SYSCALLS:
        try:
            rules.add_rule(eperm, name)
        except (ValueError, RuntimeError, OSError):
            pass  # a syscall this kernel or architecture does not have
    # threads (CLONE_THREAD) stay possible; new processes do not
    rules.add_rule(eperm, "clone", _seccomp.Arg(0, _seccomp.MASKED_EQ, 0x00010000, 0))
    try:
        rules.add_rule(_seccomp.ERRNO(errno.ENOSYS), "clone3")  # libc falls back to clone
    except (ValueError, RuntimeError, OSError):
        pass
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        program = handle.read()

    class SockFprog(_ctypes.Structure):
        _fields_ = [("len", _ctypes.c_ushort), ("filter", _ctypes.c_void_p)]

    buffer = _ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, _ctypes.addressof(buffer))
    return fprog, buffer  # keep the buffer alive with the struct


def _load_seccomp() -> None:
    if _SECCOMP_PROGRAM is None:
        return
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(_ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, _ctypes.byref(_SECCOMP_PROGRAM[0]), 0, 0) != 0:
        raise OSError(_ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


try:
    _SECCOMP_PROGRAM = _compile_seccomp()
except (OSError, RuntimeError, ValueError):  # an unusual kernel: the audit hook still holds
    _SECCOMP_PROGRAM = None


def _as_grid(value):
    """The solver's return value as plain lists of ints, or (kind, message)."""
    if isinstance(value, np.ndarray):
        if value.ndim != 2:
            return "bad_shape", f"returned an array with {value.ndim} dimension(s); a grid has 2"
        if value.dtype.kind not in "iub" and not (value.dtype.kind == "f" and np.all(np.mod(value, 1) == 0)):
            return "not_grid", f"returned an array of {value.dtype}; a grid holds integers 0-9"
        rows = [[int(c) for c in row] for row in np.asarray(value, dtype=np.float64).tolist()]
    elif isinstance(value, (list, tuple)):
        rows = []
        for r, row in enumerate(value):
            if isinstance(row, np.ndarray):
                row = row.tolist()
            if not isinstance(row, (list, tuple)):
                return "not_grid", f"row {r} is a {type(row).__name__}, not a list of colours"
            cells = []
            for c, cell in enumerate(row):
                if isinstance(cell, (bool, np.bool_)) or not isinstance(cell, (int, np.integer, float, np.floating)):
                    return "not_grid", f"cell ({r},{c}) is a {type(cell).__name__}, not an integer colour"
                if isinstance(cell, (float, np.floating)) and float(cell) != int(cell):
                    return "not_grid", f"cell ({r},{c}) is {float(cell)}, not an integer colour"
                cells.append(int(cell))
            rows.append(cells)
    else:
        return "not_grid", f"returned a {type(value).__name__}, not a grid (a list of lists of ints)"
    if not rows or not rows[0]:
        return "bad_shape", "returned an empty grid"
    width = len(rows[0])
    for r, row in enumerate(rows):
        if len(row) != width:
            return "bad_shape", f"ragged grid: row {r} has {len(row)} cells, row 0 has {width}"
    if len(rows) > MAX_SIDE or width > MAX_SIDE:
        return "bad_shape", f"returned a {len(rows)}x{width} grid; ARC grids are at most {MAX_SIDE}x{MAX_SIDE}"
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if not 0 <= cell <= 9:
                return "not_grid", f"cell ({r},{c}) is {cell}; colours are 0-9"
    return rows


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 500 else text[:500] + "..."


def _child(request: dict, start: int, reply_fd: int, workdir: str) -> None:
    """Runs in the forked child; never returns."""
    write = os.write
    exit_now = os._exit
    try:
        os.setsid()
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, reply_fd)
        os.closerange(reply_fd + 1, 65536)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin"})
        tempfile.tempdir = workdir
        memory = int(request["memory_bytes"])
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        size = int(request["file_bytes"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead
        _load_seccomp()
        captured = _CappedText(int(request["output_limit"]))
        sys.stdout = sys.stderr = captured
        sys.addaudithook(_make_audit_hook(os.path.realpath(workdir), _CODE_ROOTS))
    except BaseException as error:  # confinement failed: report and refuse to run the code
        write(reply_fd, (json.dumps({"fatal": f"sandbox setup failed: {_describe(error)}"}) + "\n").encode())
        exit_now(3)

    def send(index: int, kind: str, grid=None, message: str = "") -> None:
        line = json.dumps({"index": index, "kind": kind, "grid": grid, "message": message}) + "\n"
        data = line.encode()
        while data:
            data = data[write(reply_fd, data):]

    if request.get("entry") == "program":
        send(start, *_run_program(request["code"]))
        _finish(reply_fd, captured, request, write, exit_now)

    inputs = request["inputs"]
    namespace = {"__name__": "solver", "__builtins__": builtins}
    compiled, failure = _compile(request["code"], "<solver>")
    if compiled is not None:
        try:
            exec(compiled, namespace)
            solve = namespace.get("solve")
            if not callable(solve):
                raise LookupError("the code defines no function solve(grid)")
        except LookupError as error:
            failure = ("invalid_code", str(error))
        except MemoryError:
            failure = ("memory", "MemoryError while loading the code")
        except BaseException as error:  # the solver's own module-level code failed
            failure = ("exception", f"while loading the code: {_describe(error)}")
    for index in range(start, len(inputs)):
        if failure:
            send(index, failure[0], message=failure[1])
            continue
        try:
            result = solve([list(row) for row in inputs[index]])
            converted = _as_grid(result)
        except MemoryError:
            converted = ("memory", "MemoryError: the solver exceeded its memory limit")
        except RecursionError as error:
            converted = ("exception", _describe(error))
        except BaseException as error:  # includes SystemExit and KeyboardInterrupt from the solver
            converted = ("exception", _describe(error))
        if isinstance(converted, tuple):
            send(index, converted[0], message=converted[1])
        else:
            send(index, "ok", grid=converted)
    _finish(reply_fd, captured, request, write, exit_now)


def _compile(code, name: str):
    """(code object, None), or (None, ("invalid_code", why)) for source that does not compile."""
    try:
        return compile(code, name, "exec"), None
    except SyntaxError as error:
        return None, ("invalid_code", f"SyntaxError: {error.msg} (line {error.lineno})")
    except MemoryError:
        return None, ("invalid_code", "the source is too large or too deeply nested to compile")
    except (ValueError, TypeError, RecursionError, UnicodeError) as error:  # null bytes, surrogates, deep nesting
        return None, ("invalid_code", _describe(error))


def _run_program(code: str) -> tuple[str, None, str]:
    """Exec a whole program (say a solution, its tests and ``check(f)``): ok when it runs to the end."""
    namespace = {"__name__": "program", "__builtins__": builtins}
    compiled, failure = _compile(code, "<program>")
    if compiled is None:
        return failure[0], None, failure[1]
    try:
        exec(compiled, namespace)
    except MemoryError:
        return "memory", None, "MemoryError: the program exceeded its memory limit"
    except BaseException as error:  # a failed assertion, any exception, SystemExit from the program
        return "exception", None, _describe(error)
    return "ok", None, ""


def _finish(reply_fd: int, captured: _CappedText, request: dict, write, exit_now) -> None:
    """Send the captured output and the end marker; never returns (``write``/``exit_now`` taken before the code ran)."""
    try:
        text = captured.text()
    except BaseException:
        text = ""
    write(reply_fd, (json.dumps({"done": True, "stdout": text[: int(request["output_limit"]) + 200]}) + "\n").encode())
    exit_now(0)


# ---------------------------------------------------------------- the warm parent

_CODE_ROOTS = tuple(os.path.realpath(p) for p in sys.path if p and os.path.isdir(p))


def _empty(folder: str) -> None:
    """Remove everything in ``folder`` (the child that wrote it is dead: nothing writes there now)."""
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def _grid_or_none(value):
    """``value`` if it is a plain ARC grid (checked without recursion), else None."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_SIDE:
        return None
    width = len(value[0]) if isinstance(value[0], list) else 0
    for row in value:
        if not isinstance(row, list) or len(row) != width or not 0 < width <= MAX_SIDE:
            return None
        if not all(type(cell) is int and 0 <= cell <= 9 for cell in row):
            return None
    return value


def _checked(message: dict, *, program: bool) -> dict:
    """What a child claims about one input, reduced to a kind, a grid and a short message
    (a whole program's ``ok`` carries no grid)."""
    kind = message.get("kind")
    text = message.get("message")
    text = text[:MESSAGE_LIMIT] if isinstance(text, str) else ""
    if kind not in KINDS:
        return {"kind": "crash", "grid": None, "message": "the solver's process sent a malformed result"}
    grid = _grid_or_none(message.get("grid")) if kind == "ok" and not program else None
    if kind == "ok" and grid is None and not program:
        return {"kind": "not_grid", "grid": None, "message": "returned something that is not a grid of colours 0-9"}
    return {"kind": kind, "grid": grid, "message": text}


def _parse(line: bytes):
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = " (stack overflow or a native crash)" if sig == signal.SIGSEGV else ""
        return f"the solver's process was killed by {name}{hint}"
    return f"the solver's process exited with status {os.WEXITSTATUS(status)} before returning"


def _run_child(request: dict, start: int, outcomes: list, base_dir: str, reap_later: list) -> tuple[int, str]:
    """Fork one child for inputs[start:], collect what it sends; return (next index, stdout).

    A child that answered everything is killed at once but reaped after the reply has gone
    (its pid lands in ``reap_later``): tearing down a warm interpreter's address space then
    overlaps with the caller's work. Nothing new is forked until it is reaped and the scratch
    folder emptied."""
    read_fd, write_fd = os.pipe()
    workdir = tempfile.mkdtemp(prefix="solve-", dir=base_dir)
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(request, start, write_fd, workdir)
    os.close(write_fd)
    timeout = float(request["timeout_s"])
    index, buffer, received, stdout = start, b"", 0, ""
    deadline = time.monotonic() + timeout
    ended = flooded = False
    status = None
    try:
        while not ended:
            remaining = deadline - time.monotonic()
            ready = select.select([read_fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
            if not ready:
                if index < len(outcomes):
                    outcomes[index] = {"kind": "timeout", "message": f"no result within {timeout:g} s"}
                    index += 1
                return index, stdout  # the finally clause kills the child
            chunk = os.read(read_fd, 65536)
            received += len(chunk)
            if received > REPLY_LIMIT:
                flooded = ended = True
            elif not chunk:
                ended = True
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = _parse(line)
                if message is None:
                    continue
                if "fatal" in message:
                    for i in range(index, len(outcomes)):
                        outcomes[i] = {"kind": "crash", "message": str(message["fatal"])[:MESSAGE_LIMIT]}
                    index = len(outcomes)
                elif message.get("done"):
                    stdout = message.get("stdout")
                    stdout = stdout[: int(request["output_limit"])] if isinstance(stdout, str) else ""
                    ended = True
                elif message.get("index") == index and index < len(outcomes):
                    outcomes[index] = _checked(message, program=request.get("entry") == "program")
                    index += 1
                    deadline = time.monotonic() + timeout
    finally:
        os.close(read_fd)
        _kill_group(pid)
        if index >= len(outcomes):
            reap_later.append(pid)
        else:
            status = _reap(pid, base_dir)
    if index < len(outcomes) and status is not None and not stdout:
        reason = f"sent more than {REPLY_LIMIT} bytes back" if flooded else _exit_reason(status)
        outcomes[index] = {"kind": "crash", "message": reason}
        index += 1
    return index, stdout


def _reap(pid: int, base_dir: str) -> int | None:
    """Wait for a killed child; then empty the scratch folder (nothing can write there now)."""
    try:
        status = os.waitpid(pid, 0)[1]
    except ChildProcessError:
        status = None
    _empty(base_dir)
    return status


def _evaluate(request: dict, base_dir: str, reap_later: list) -> dict:
    outcomes: list = [None] * len(request["inputs"])
    index, stdout_parts = 0, []
    while index < len(outcomes):
        index, stdout = _run_child(request, index, outcomes, base_dir, reap_later)
        if stdout:
            stdout_parts.append(stdout)
    return {"id": request.get("id"), "outcomes": outcomes, "stdout": "".join(stdout_parts)[: int(request["output_limit"])]}


def main() -> None:
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides when we stop
    if _libc is not None:
        _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # inherited by every child: no /proc/<pid>/mem, no ptrace
    base_dir = _option("--scratch") or sys.exit("usage: _zygote.py --scratch DIR [--site DIR]")
    gc.freeze()  # children share the warm heap without the collector dirtying its pages
    reply.write(json.dumps({"ready": True, "seccomp": _SECCOMP_PROGRAM is not None, "pid": os.getpid()}) + "\n")
    reap_later: list = []
    for line in sys.stdin:
        try:
            request = json.loads(line)
            result = _evaluate(request, base_dir, reap_later)
        except (ValueError, KeyError, TypeError) as error:
            result = {"id": None, "error": f"bad request: {error}"}
        reply.write(json.dumps(result) + "\n")
        while reap_later:
            _reap(reap_later.pop(), base_dir)


if __name__ == "__main__":
    main()

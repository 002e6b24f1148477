"""The child's guards inside the operating system's: the seccomp filter and the Python audit hook.

Both are built once in the template (the filter compiled to BPF, the hook's rules fixed) and
installed by each child before it reads a line of untrusted code.

The seccomp filter is the layer that holds against native code. It denies, with EPERM:
- new tasks of any kind (fork, vfork, clone, and clone3 as ENOSYS so libc falls back to clone):
  an evaluation is one process of one thread, which is its cap on tasks, threads and cores;
- exec, signals to others, sockets, ptrace and reading or writing another's memory;
- memory outside RLIMIT_AS and the capped tmpfs: memfd_create, memfd_secret, System V shared
  memory, message queues and semaphores, POSIX message queues;
- inotify and fanotify (their instances count against the caller's per-user quota);
- changing the mode, owner or extended attributes of any file (the worker's cleanup must always be
  able to delete, and the scratch tmpfs's root must carry nothing to the next evaluation);
- scheduling changes (priority, policy, parameters, affinity, I/O priority) on any process but
  the caller itself;
- rlimit changes, namespaces, mounts, keyrings, BPF, perf, io_uring, userfaultfd, modules.
"""

from __future__ import annotations

import errno
import os
import tempfile

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
CLONE_THREAD = 0x00010000

DENIED = (
    # new tasks and programs
    "fork", "vfork", "clone", "execve", "execveat",
    # other processes
    "kill", "tkill", "tgkill", "pidfd_send_signal", "pidfd_open", "pidfd_getfd", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    # the network
    "socket", "socketpair",
    # memory that RLIMIT_AS does not count
    "memfd_create", "memfd_secret", "shmget", "shmat", "msgget", "semget", "mq_open",
    # quotas shared with the caller
    "inotify_init", "inotify_init1", "fanotify_init",
    # modes, owners and extended attributes: nothing a child leaves may be undeletable, and nothing
    # may stay on the scratch tmpfs's root for the next evaluation to read
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "setxattr", "lsetxattr", "fsetxattr", "setxattrat",
    # limits, identity, namespaces, the kernel
    "setrlimit", "prlimit64", "unshare", "setns", "mount", "umount2", "chroot", "pivot_root", "keyctl",
    "add_key", "request_key", "bpf", "perf_event_open", "io_uring_setup", "userfaultfd", "setuid", "setgid",
    "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "mknod", "mknodat", "open_by_handle_at",
    "name_to_handle_at", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "fsopen", "fsmount", "fsconfig", "fspick",
    "move_mount", "open_tree", "mount_setattr", "syslog", "vhangup", "iopl", "ioperm", "personality",
)
# scheduling calls whose first argument names the process: allowed on the caller itself (0) only
SELF_ONLY_FIRST_ARG = ("sched_setscheduler", "sched_setparam", "sched_setattr", "sched_setaffinity")


def compile_filter(seccomp, libc_ctypes):
    """The child's syscall filter as a ready BPF program, or None without libseccomp."""
    if seccomp is None or libc_ctypes is None:
        return None
    ctypes = libc_ctypes
    eperm = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED:
        _add(rules, eperm, name)
    for name in SELF_ONLY_FIRST_ARG:
        _add(rules, eperm, name, seccomp.Arg(0, seccomp.NE, 0))
    # setpriority(which, who, prio) and ioprio_set(which, who, prio): only (process, 0), i.e. itself
    _add(rules, eperm, "setpriority", seccomp.Arg(0, seccomp.NE, 0))  # PRIO_PROCESS
    _add(rules, eperm, "setpriority", seccomp.Arg(1, seccomp.NE, 0))
    _add(rules, eperm, "ioprio_set", seccomp.Arg(0, seccomp.NE, 1))  # IOPRIO_WHO_PROCESS
    _add(rules, eperm, "ioprio_set", seccomp.Arg(1, seccomp.NE, 0))
    _add(rules, seccomp.ERRNO(errno.ENOSYS), "clone3")  # libc falls back to clone, which is denied
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        program = handle.read()

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(program, len(program))
    return SockFprog(len(program) // 8, ctypes.addressof(buffer)), buffer  # the buffer lives with the struct


def _add(rules, action, name, *conditions) -> None:
    try:
        rules.add_rule(action, name, *conditions)
    except (ValueError, RuntimeError, OSError):
        pass  # a syscall this kernel or architecture does not have


def load_filter(program, libc, ctypes) -> None:
    """Install the compiled filter in this process (no_new_privs first, as the kernel requires)."""
    if program is None:
        return
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program[0]), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


# ---------------------------------------------------------------- the audit hook (a second layer)

CODE_SUFFIXES = (".py", ".pyc", ".pyi", ".so", ".pth", ".typed")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
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


def _within(path, root: str) -> bool:
    if isinstance(path, int):
        return True  # an fd the child already holds
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == root or real.startswith(root + os.sep)


def audit_hook(workdir: str, code_roots: tuple[str, ...]):
    """Writes only inside ``workdir``; reads only of code files and ``workdir``; no sockets,
    processes, signals, ctypes or arcray."""

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

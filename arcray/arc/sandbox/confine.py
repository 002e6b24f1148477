"""Confinement by the operating system: the bubblewrap command line that holds the sandbox worker.

The sandbox worker (:mod:`arcray.arc.sandbox.worker`: a supervisor, a warm template, one child per
evaluation) runs inside one
bubblewrap (``bwrap``) sandbox, which the caller starts:

- user, mount, PID, network, IPC, UTS and cgroup namespaces of their own; inside, the user is
  ``nobody`` (65534) with no capabilities (bounding set empty) and ``no_new_privs``;
- a root that is read-only and holds only what a solver needs: the Python install (its
  ``site-packages`` hidden behind empty read-only mounts), the system's shared libraries, the
  packages named in :attr:`SandboxConfig.packages` (numpy, arcdsl) under ``/arcray/site``, the worker's
  own modules under ``/arcray/worker``, ``/dev/null``, ``/dev/zero`` and ``/dev/urandom`` (no
  ``/dev/shm``: no POSIX shared memory);
- no ``/proc``, no ``/sys``, no ``/etc`` beyond the dynamic linker's cache, no home, no task
  files, no repository: nothing a solver could read an answer or a key from;
- a private tmpfs at ``/tmp`` capped at :attr:`SandboxConfig.scratch_mb`, the only place a
  solver can write, wiped after every evaluation and gone with the sandbox;
- an empty environment, its own session (no terminal to inject into), and death with its
  parent.

bubblewrap (Debian/Ubuntu/Fedora ``bubblewrap``) is the well-kept tool for exactly this, used
by Flatpak; arcray only decides what the view holds. Where it cannot run, the sandbox refuses
untrusted code with one line naming the fix, unless the user opts in to running unconfined
(``ARCRAY_ALLOW_UNCONFINED=1`` or ``SandboxConfig(allow_unconfined=True)``).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import site
import sys
import sysconfig
from pathlib import Path

SANDBOX_UID = 65534  # nobody
SITE = "/arcray/site"
WORKER = "/arcray/worker"
SCRATCH = "/tmp"
_SYSTEM_PREFIXES = ("/usr", "/usr/local", "/")
_LIBRARY_DIRS = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
UNCONFINED_ENV = "ARCRAY_ALLOW_UNCONFINED"
WORKER_MODULES = ("pyseccomp",)  # the worker's seccomp binding (ctypes over libseccomp)

INSTALL_HINT = (
    "install bubblewrap (`apt-get install bubblewrap`, `dnf install bubblewrap`); or, to run untrusted code "
    f"with only the Python-level guards, opt in with {UNCONFINED_ENV}=1"
)
USERNS_HINT = (
    "bubblewrap could not create its namespaces: allow unprivileged user namespaces (Ubuntu 23.10+: "
    "`sysctl kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile for bwrap; elsewhere "
    f"`sysctl user.max_user_namespaces=15000`); or opt in to running unconfined with {UNCONFINED_ENV}=1"
)


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def unconfined_allowed(config_allows: bool) -> bool:
    return config_allows or os.environ.get(UNCONFINED_ENV, "").strip().lower() in ("1", "true", "yes")


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _interpreter_roots() -> list[str]:
    """Folders that hold the interpreter, its standard library and libpython."""
    executable = os.path.realpath(sys.executable)
    base = os.path.realpath(sys.base_prefix)
    if base not in _SYSTEM_PREFIXES and _within(executable, base):
        return [base]
    paths = sysconfig.get_paths()
    roots = [executable, paths["stdlib"], paths["platstdlib"], sysconfig.get_config_var("LIBDIR") or ""]
    return sorted({os.path.realpath(p) for p in roots if p and os.path.exists(p)})


def _package_dirs() -> set[str]:
    """Every site-/dist-packages folder an interpreter could import from: hidden in the view."""
    candidates = list(site.getsitepackages()) + [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    base = os.path.realpath(sys.base_prefix)
    for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages", "/usr/lib/python3/dist-packages",
                    f"{base}/lib/python3*/site-packages", f"{base}/lib64/python3*/site-packages"):
        candidates.extend(glob.glob(pattern))
    return {os.path.realpath(p) for p in candidates if os.path.isdir(p)}


def package_binds(packages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(host path, view path) for each package solvers may import, with its bundled libraries;
    plus the worker's own seccomp binding when it is installed."""
    from arcray.arc.sandbox.errors import SandboxUnavailable

    binds = []
    for name in (*packages, *(n for n in WORKER_MODULES if n not in packages)):
        spec = importlib.util.find_spec(name)
        if spec is None or not (spec.submodule_search_locations or spec.origin):
            if name in WORKER_MODULES:
                continue  # without it the worker runs without seccomp; the namespaces still hold
            raise SandboxUnavailable(f"sandbox package {name!r} is not installed here; pip install {name} or drop it from sandbox.packages")
        if spec.submodule_search_locations:
            folder = Path(list(spec.submodule_search_locations)[0]).resolve()
        else:
            folder = Path(spec.origin).resolve()  # a single-file module
        binds.append((str(folder), f"{SITE}/{folder.name}"))
        libs = folder.with_name(f"{name}.libs")  # a manylinux wheel's vendored shared libraries
        if libs.is_dir():
            binds.append((str(libs), f"{SITE}/{libs.name}"))
    return binds


def bwrap_command(bwrap: str, worker: Path, *, packages: tuple[str, ...], scratch_bytes: int,
                  env: dict[str, str]) -> list[str]:
    """The full ``bwrap … python -I /arcray/worker/main.py`` command line for one sandbox worker."""
    args = [bwrap, "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--as-pid-1", "--clearenv",
            "--hostname", "sandbox"]
    roots = _interpreter_roots()
    for directory in _LIBRARY_DIRS:
        if os.path.islink(directory):
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            roots.append(directory)
    for root in roots:
        args += ["--ro-bind", root, root]
    for hidden in sorted(_package_dirs()):
        if any(_within(hidden, root) for root in roots):
            args += ["--tmpfs", hidden, "--remount-ro", hidden]
    for host, view in package_binds(packages):
        args += ["--ro-bind", host, view]
    if os.path.isfile("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for device in _DEVICES:
        if os.path.exists(device):
            args += ["--dev-bind", device, device]
    args += ["--ro-bind", str(worker), WORKER, "--size", str(scratch_bytes), "--tmpfs", SCRATCH,
             "--remount-ro", "/", "--chdir", SCRATCH]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return args + [os.path.realpath(sys.executable), "-I", f"{WORKER}/main.py", "--scratch", SCRATCH, "--site", SITE, *preload_option(packages)]


def preload_option(packages: tuple[str, ...]) -> list[str]:
    """The worker imports these before any solver runs: warm in every child, read before the guards."""
    return ["--preload", ",".join(packages)] if packages else []

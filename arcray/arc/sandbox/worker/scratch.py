"""Emptying the scratch tmpfs after an evaluation, whatever the evaluation left in it.

``shutil.rmtree`` is not enough: a child can leave a folder it made unreadable (``mkdir`` with
mode 0, a umask of 0o777), a 3000-deep chain of folders (deeper than PATH_MAX, and deeper than
the open-file limit would allow one descriptor per level), or a folder whose entries it renamed.
So this walks with one open folder at a time, relative to descriptors only: it gives every
folder back its owner's rwx before listing it (the worker owns everything a child made: they
share one uid), deletes what it can, descends into what it cannot, and climbs back through
``..``. Children cannot change modes or owners at all (seccomp); this is the second layer.
It is bounded in entries and seconds; the caller replaces the worker when it gives up.
"""

from __future__ import annotations

import os
import stat
import time

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def empty(root: str, *, max_seconds: float = 5.0) -> bool:
    """Delete everything inside ``root`` (not ``root`` itself); True when it is empty afterwards."""
    stop = time.monotonic() + max_seconds
    try:
        os.chmod(root, 0o700)
        fd = os.open(root, DIR_FLAGS)
    except OSError:
        return False
    depth = 0
    try:
        while True:
            if time.monotonic() > stop:
                return False
            deeper = _clear_level(fd)
            if deeper is not None:
                os.close(fd)
                fd, depth = deeper, depth + 1
                continue
            if depth == 0:
                return not os.listdir(fd)
            parent = os.open("..", DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd, depth = parent, depth - 1
    except OSError:
        return False
    finally:
        os.close(fd)


def _clear_level(fd: int) -> int | None:
    """Delete every file and empty folder in ``fd``; return a descriptor of the first folder that
    is not empty (to descend into), or None when ``fd`` is now empty."""
    os.fchmod(fd, 0o700)
    for name in os.listdir(fd):
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(name, dir_fd=fd)
            continue
        os.chmod(name, 0o700, dir_fd=fd)  # a folder (lstat said so), and its writer is dead: no race
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError:  # not empty
            return os.open(name, DIR_FLAGS, dir_fd=fd)
    return None

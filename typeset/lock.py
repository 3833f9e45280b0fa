"""One build at a time per output folder.

`exclusive(out_dir)` holds an advisory lock (fcntl.flock) on `out_dir/.lock` for the length of
a build. A second build of the same folder started meanwhile prints one line, "waiting for
another build of <out_dir>…", and waits until the first finishes; after `timeout` seconds it
gives up with a BuildError. The kernel drops the lock when its holder exits, however it exits
(Ctrl-C, a crash, kill -9), so a stale lock never blocks the next build; the `.lock` file
itself stays, empty, and means nothing while no build holds it.

While it holds the lock a build is the only writer of the folder, so temporary files left
there by an earlier build that was killed before it could clean up (`.<name>.<random>.tmp`,
see postprocess.publish) are removed when the lock is taken and again when it is released.
"""

import fcntl
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildError

LOCK_NAME = ".lock"
TIMEOUT = 30 * 60  # seconds: a whole catalogue builds in well under a minute
POLL = 0.1


@contextmanager
def exclusive(out_dir, timeout=TIMEOUT, stderr=None):
    """Hold the build lock of `out_dir` (created if missing) for the `with` body."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        _acquire(handle, out_dir, timeout, stderr or sys.stderr)
        try:
            remove_stale_temporaries(out_dir)
            yield out_dir
        finally:
            remove_stale_temporaries(out_dir)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)


def _acquire(handle, out_dir, timeout, stderr):
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if not told:
            print(f"waiting for another build of {out_dir}…", file=stderr, flush=True)
            told = True
        if time.monotonic() >= deadline:
            raise BuildError(f"another build of {out_dir} has held it for {timeout:.0f} s — "
                             "let it finish or stop it, then build again")
        time.sleep(POLL)


def remove_stale_temporaries(out_dir):
    """Remove the temporary files an interrupted build left (only while holding the lock)."""
    for folder in (out_dir, out_dir / ".cache", *(out_dir / ".cache").glob("*/")):
        for path in folder.glob(".*.tmp"):
            if path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)


@contextmanager
def interrupts_held():
    """Defer Ctrl-C (SIGINT) and SIGTERM for the `with` body, then deliver them.

    The renames that put a finished build's editions in place are a handful of system calls; an
    interrupt between two of them would leave old and new editions side by side. Held here, an
    interrupt arrives just after the last rename: the folder holds one build or the other.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda number, frame: received.append(number))
                for number in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in received[:1]:
            os.kill(os.getpid(), number)

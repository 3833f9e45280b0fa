"""Run a few independent tasks at once, each in a forked copy of this process.

The laid-out document lives in memory as WeasyPrint boxes, which cannot be pickled and sent
to another process; a fork inherits it as it is. So the editions (print and screen) are written
from one layout at the same time on two cores: the first task runs here, the others in forked
children that send back their result (bytes, pickled) through a pipe. A child's exception is
re-raised here; Ctrl-C stops the children with the parent. `TYPESET_JOBS=1` runs the forks
one after another, with the same output.
"""

import gc
import os
import pickle
import signal
import sys
import threading


def jobs():
    """How many tasks may run at once: the cores, or TYPESET_JOBS."""
    wanted = os.environ.get("TYPESET_JOBS")
    return max(1, int(wanted)) if wanted else (os.cpu_count() or 1)


def run(tasks):
    """Call each function in `tasks` (a dict name → function without arguments) and return
    the dict of their results, running them concurrently where it can.

    Every task after the first runs in a child forked before the first task starts, one at a
    time when only one job is allowed: each task sees this process as it was when `run` was
    called, whatever the number of cores, so the results do not depend on it (WeasyPrint
    keeps state from one write_pdf to the next)."""
    names = list(tasks)
    if len(names) <= 1 or not hasattr(os, "fork") \
            or threading.current_thread() is not threading.main_thread():
        return {name: tasks[name]() for name in names}
    together = jobs() > 1
    children, results = {}, {}
    # The collector would walk every object of the layout in each process, writing to the
    # memory they share: every page of it copied, and the two writes no faster than one.
    gc.freeze()
    try:
        for name in names[1:]:
            children[name] = _start(tasks[name])
            if not together:
                results[name] = _collect(*children.pop(name))
        results[names[0]] = tasks[names[0]]()
        for name in list(children):
            results[name] = _collect(*children.pop(name))
    finally:
        for pid, reading in children.values():  # an error or Ctrl-C here: stop the others
            _stop(pid, reading)
        gc.unfreeze()
    return {name: results[name] for name in names}


def _start(task):
    reading, writing = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: run, send the pickled outcome, leave without cleanup handlers
        os.close(reading)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        code = 0
        try:
            try:
                outcome = (True, task())
            except BaseException as error:  # sent to the parent, which raises it
                outcome = (False, error)
                code = 1
            try:
                data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:
                data = pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")))
                code = 1
            with os.fdopen(writing, "wb") as pipe:
                pipe.write(data)
        finally:
            os._exit(code)
    os.close(writing)
    return pid, reading


def _collect(pid, reading):
    with os.fdopen(reading, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"a forked writer ended without a result (status {status})")
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return value


def _stop(pid, reading):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(reading)

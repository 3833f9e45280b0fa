"""The build: the stages in order, each a function that takes data and returns data.

    1 content      catalogue/*.yaml → Book
    2 fonts        Book → Book, every character checked against its fonts (no tofu)
    3 render       Book → laid-out document + layout manifest
    4 preflight    Book + layout → findings (errors stop a --strict build)
    5 postprocess  layout → build/<slug>-print.pdf, -screen.pdf, -cover.pdf, -imposed.pdf
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass

from . import content, fonts, postprocess, preflight, render
from .errors import BuildError

STAGES = ("content", "fonts", "render", "preflight", "postprocess")


@dataclass
class Result:
    paths: dict
    manifest: object
    findings: list
    seconds: float


def build(catalogue, out, strict=False, pad=False, report=print):
    """Build every edition of the book in `catalogue` into `out`."""
    start = time.perf_counter()
    with stage(1, report):
        book = content.load(catalogue)
    with stage(2, report):
        book = fonts.check_coverage(book)
    with stage(3, report):
        rendered = render.render(book, pad)
    with stage(4, report):
        findings = preflight.preflight(book, rendered)
        stopping = preflight.failures(findings, strict)
        if stopping:
            raise BuildError("; ".join(map(str, stopping)))
    with stage(5, report):
        paths = postprocess.postprocess(book, rendered, out)
    return Result(paths, rendered.manifest, findings, time.perf_counter() - start)


@contextmanager
def stage(number, report):
    """Time one stage and print its progress line: `[3/5] render  3.10 s`."""
    start = time.perf_counter()
    yield
    report(f"[{number}/{len(STAGES)}] {STAGES[number - 1]:<12} {time.perf_counter() - start:6.2f} s")

"""The build: the stages in order, each a function that takes data and returns data.

    1 content      catalogue/*.yaml → Book
    2 fonts        Book → Book, every character checked against its fonts (no tofu)
    3 render       Book → laid-out pages (or parts), their facts + layout manifest
    4 preflight    Book + page facts → findings (errors stop a --strict build)
    5 postprocess  layout → build/<slug>-<output>.pdf for every output of editions.py
    6 report       findings + the written PDFs → build/preflight.json, build/preflight.html
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import content, fonts, images, lock, postprocess, preflight, render, report
from .errors import BuildError
from .session import Session

STAGES = ("content", "fonts", "render", "preflight", "postprocess", "report")


@dataclass
class Result:
    paths: dict
    manifest: object
    findings: list
    seconds: float
    book: object = None  # the book as loaded (content.Book)


def build(catalogue, out, strict=False, pad=False, progress=print, session=None):
    """Build every output of the book in `catalogue` into `out`.
    One build at a time per `out`: a second one waits for the lock (lock.exclusive).
    `session`: what a long-running process keeps between builds (session.py; watch)."""
    session = session or Session()
    with lock.exclusive(out):
        start = time.perf_counter()
        cache = Path(out) / ".cache"
        with stage(1, progress):
            if not session.photos:
                session.photos.update(images.load_checks(cache / "photos.json"))
            book = content.load(catalogue, session.photos)
            images.save_checks(cache / "photos.json", session.photos, book.images)
        with stage(2, progress):
            book = fonts.check_coverage(book, cache / "fonts", session.fonts)
        with stage(3, progress):
            rendered = render.render(book, session, pad, cache / "parts")
            if session.laid_out is not None:
                session.laid_out(book, rendered, session)
        with stage(4, progress):
            findings = preflight.preflight(book, rendered)
            stopping = preflight.failures(findings, strict)
            if stopping:
                report.write(findings, out, book)  # the designer still gets the report
                first = stopping[0]
                more = f" (and {len(stopping) - 1} more errors: see preflight.html)" \
                    if len(stopping) > 1 else ""
                raise BuildError(f"{first.where}: {first.message}{more}")
        with stage(5, progress):
            paths = postprocess.postprocess(book, rendered, out, session)
        with stage(6, progress):
            findings += preflight.outputs(book, paths, cache)
            report.write(findings, out, book)
        return Result(paths, rendered.manifest, findings, time.perf_counter() - start, book)


@contextmanager
def stage(number, progress):
    """Time one stage and print its progress line: `[3/6] render  3.10 s`."""
    start = time.perf_counter()
    yield
    progress(f"[{number}/{len(STAGES)}] {STAGES[number - 1]:<12} "
             f"{time.perf_counter() - start:6.2f} s")

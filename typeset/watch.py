"""Rebuild on every change: the editor saves a caption and sees the page.

Watches the catalogue, the images, and the templates and styles (the book's own beside its
catalogue, and the shared ones) with watchfiles; after each change builds again and prints one
line: pages, time, findings, and which contents entries moved folio. The layouts of the
chapters' stretches are kept between builds (render by parts), so an edit lays out again only
the stretch it touches (html.pieces: the pages between two breaks to a left-hand page).
A failed build prints its one-line error and leaves the last good PDFs.
"""

import time
from pathlib import Path

import watchfiles

from . import STYLES, TEMPLATES
from .build import build
from .errors import BuildError, ContentError
from .session import Session


def summary(result, previous):
    """One line for a build: pages, seconds, findings, entries that moved since the last one."""
    pages = result.manifest.page_count + result.manifest.padding
    errors = sum(f.level == "error" for f in result.findings)
    warnings = sum(f.level == "warning" for f in result.findings)
    moved = []
    if previous is not None:
        before = {entry.id: entry.folio for entry in previous.manifest.entries}
        moved = [f"{entry.title} {before[entry.id]:02d}→{entry.folio:02d}"
                 for entry in result.manifest.entries
                 if entry.id in before and before[entry.id] != entry.folio]
    return (f"{time.strftime('%H:%M:%S')} built {pages} pages in {result.seconds:.1f} s — "
            f"{errors} errors, {warnings} warnings; moved: {', '.join(moved) or 'none'}")


def watch(catalogue, out, pad=True, print_line=print, stop=None, after=None, laid_out=None):
    """Build, then rebuild after every change until interrupted (or `stop` is set).
    `after(result, error, line)`: told of each build; `laid_out(book, rendered, session)`: of each
    layout, before the editions are written (the live proof, live.py)."""
    catalogue = Path(catalogue).resolve()
    folders = [catalogue, catalogue.parent / "images", catalogue.parent / "templates",
               catalogue.parent / "styles", TEMPLATES, STYLES]  # the book's own and the shared
    folders = list(dict.fromkeys(folder.resolve() for folder in folders))
    previous = None
    session = Session(parts={}, laid_out=laid_out)  # an edit lays out only its stretch

    def once():
        nonlocal previous
        try:
            result = build(catalogue, out, pad=pad, progress=lambda line: None,
                           session=session)
        except (ContentError, BuildError) as error:
            line = f"{time.strftime('%H:%M:%S')} error: {error} — the last good PDFs are kept"
            print_line(line)
            if after:
                after(None, error, line)
            return
        line = summary(result, previous)
        print_line(line)
        previous = result
        if after:
            after(result, None, line)
        session.settle()

    once()
    for _ in watchfiles.watch(*[folder for folder in folders if folder.is_dir()],
                              stop_event=stop, debounce=300, step=100,
                              watch_filter=lambda change, path: "/." not in path):
        once()

"""The small documents a build makes besides the book: the ISBN stamp (merged onto the
colophon by postprocess) and the cover spread. They are the same from one build to the next:
made again only when their HTML, tokens, styles or the code change — kept in the session and,
with `cache_dir`, for the next process (the eight newest).
"""

import base64
import hashlib
from pathlib import Path

from . import STYLES, colour, engine, files, html, isbn
from .errors import BuildError
from .parts import files_digest
from .units import to_mm


def barcode_url(book):
    if not book.isbn:
        return ""
    svg = isbn.barcode_svg(book.isbn).encode("utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def stamp(book, session, cache_dir=None, colours="screen"):
    """The ISBN stamp as PDF bytes: a right and a left colophon page with the ISBN box only,
    drawn in an edition's colours."""
    source = html.page(book, "stamp.html.j2", barcode=barcode_url(book))
    tokens = html.tokens_css(book, first_page_number=1)
    return _made(book, session, source, tokens, None, "the ISBN stamp", None, cache_dir,
                 colours)


def has_spine_text(book, pages):
    """A perfect-bound book's spine carries its title from `spine_text_min` on."""
    return book.production["binding"] == "perfect" and \
        spine_width_mm(book, pages) >= to_mm(book.production["spine_text_min"])


def spine_width_mm(book, pages):
    """The spine: one caliper per leaf (two pages)."""
    return pages / 2 * to_mm(book.production["caliper"])


def cover(book, pages, session, cache_dir=None):
    """The cover spread as PDF bytes (PDF/X-4, like the print edition): back, spine, front."""
    spine = spine_width_mm(book, pages)
    width = 2 * to_mm(book.design["trim_width"]) + spine
    source = html.page(book, "cover.html.j2", barcode=barcode_url(book),
                       spine_text=has_spine_text(book, pages))
    tokens = html.tokens_css(book, first_page_number=1, extra={
        "spine": f"{spine:.3f}mm", "cover-width": f"{width:.3f}mm"})
    return _made(book, session, source, tokens, [STYLES / "cover.css"], "the cover", "pdf/x-4",
                 cache_dir, "press")


def _made(book, session, source, tokens, sheets, what, variant, cache_dir, colours):
    """The document's PDF: from the session, from `cache_dir`, or laid out and written."""
    key = hashlib.sha256("\0".join([source, tokens, files_digest(sheets or html.stylesheets(book)),
                                    session.code_state(), colours,
                                    repr(sorted(book.design["colours"].items())),
                                    book.production["output_profile"]]).encode()).hexdigest()
    kept = Path(cache_dir) / f"{key[:40]}.pdf" if cache_dir is not None else None

    def make():
        if kept is not None and kept.is_file():
            return kept.read_bytes()
        document, warnings = engine.layout(session.engine, source,
                                           **html.layout_inputs(book, tokens, sheets))
        if warnings:
            raise BuildError(f"{what}: " + "; ".join(warnings))
        return engine.write(document, variant, colour.palette(book, colours))

    data = session.remember_document(key, make)
    if kept is not None and not kept.is_file():
        files.write_cache(kept, data)
        newest = sorted(kept.parent.glob("*.pdf"), key=lambda path: path.stat().st_mtime)[-8:]
        files.forget_others(kept.parent, "*.pdf", {path.name for path in newest})
    return data


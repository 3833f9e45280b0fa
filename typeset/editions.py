"""The outputs of a build, one registry entry each (as WeasyPrint keeps its PDF variants).

An edition is drawn from the laid-out book in its PDF variant, then finished: the common
steps (postprocess.finish: binding pages, ISBN stamp, page labels, outline, metadata) and its
own `finish`; its `extras` are outputs made from the finished edition (the cover spread, the
imposed sheets); `checks` run on each written file (checks.py). A new edition is one entry
here: render draws it, postprocess finishes and publishes it, preflight checks it, the CLI
lists it.
"""

import io
from dataclasses import dataclass, field

import pikepdf

from . import checks, documents, inks, metadata, press, screen


@dataclass(frozen=True)
class Extra:
    """An output made from a finished edition: `make(edition_pdf, book, manifest, session,
    cache)` returns its bytes, or None when the book does not have it."""

    name: str
    variant: str
    make: object
    checks: tuple
    about: str
    colours: str = "press"  # its drawing's colours (colour.palette)


@dataclass(frozen=True)
class Edition:
    name: str
    variant: str        # WeasyPrint's PDF variant the layout is drawn in
    colours: str        # the colours it is drawn in: "press" (CMYK) or "screen" (as laid out)
    finish: object      # (pikepdf.Pdf, book, manifest, cache, laid-out size) → its own steps
    checks: tuple
    about: str
    extras: tuple = field(default_factory=tuple)
    object_streams: bool = False  # smaller, for a screen; a press file keeps objects plain


def _for_press(pdf, book, manifest, cache, laid_out_size):
    press.without_links(pdf)
    if book.production["photo_colour"] == "convert":
        inks.convert_photos(pdf, book, cache / "press-images")
    inks.tag_photos(pdf)
    inks.blend_in(pdf, "/DeviceCMYK")
    inks.output_intents(pdf, book)
    press.add_marks(pdf, book.production)


def _for_screen(pdf, book, manifest, cache, laid_out_size):
    press.trim_to_page(pdf)
    inks.blend_in(pdf, "/DeviceRGB")
    # The laid-out edition (photos left out, structure tree in) is what the file holds
    # besides its photos.
    screen.downsample(pdf, book, manifest.placed, cache / "screen-images", laid_out_size)
    if "/OutputIntents" in pdf.Root:
        del pdf.Root.OutputIntents


def _cover(print_pdf, book, manifest, session, cache):
    """The cover spread with the book's deterministic metadata; none for a self-covered book
    (its cover is the text block's first leaf)."""
    if book.production["cover"] == "self":
        return None
    pages = manifest.page_count + manifest.padding
    with pikepdf.open(io.BytesIO(documents.cover(book, pages, session,
                                                 cache / "documents"))) as pdf:
        inks.tag_photos(pdf)
        inks.blend_in(pdf, "/DeviceCMYK")
        inks.output_intents(pdf, book)
        press.add_marks(pdf, book.production, folds=press.spine_folds(book, pages))
        metadata.set_metadata(pdf, book, "cover", "pdf/x-4")
        return metadata.saved(pdf)


def _imposed(print_pdf, book, manifest, session, cache):
    """Printer spreads, for saddle stitch: the page count in fours."""
    pages = manifest.page_count + manifest.padding
    if book.production["binding"] != "saddle-stitch" or pages % 4:
        return None
    with press.imposed(print_pdf) as (sheets, version):
        drawn = [b"".join(form.read_bytes() for form in page.Resources.XObject.values())
                 for page in sheets.pages]  # what each sheet's two pages draw
        metadata.set_metadata(sheets, book, "imposed", "pdf/x-4", drawn)
        return metadata.saved(sheets, version=version)


PRESS_CHECKS = (checks.fonts, checks.press_boxes, checks.output_intent, checks.ink)

EDITIONS = {
    "print": Edition(
        "print", "pdf/x-4", "press", _for_press, (*PRESS_CHECKS, checks.printing_condition),
        "the press file: PDF/X-4 with a CMYK output intent; bleed, crop marks and "
        "registration targets in a slug outside the bleed",
        extras=(Extra("cover", "pdf/x-4", _cover, (*PRESS_CHECKS, checks.one_sheet),
                      "the cover spread on one sheet with bleed: back, spine, front"),
                Extra("imposed", "pdf/x-4", _imposed, (checks.fonts, checks.output_intent),
                      "saddle stitch only: printer spreads two-up"))),
    "screen": Edition(
        "screen", "pdf/ua-1", "screen", _for_screen, (checks.fonts, checks.screen_budget),
        "the web file: PDF/UA-1 (tagged), trimmed pages, photos at screen_dpi, linked "
        "contents", object_streams=True),
}


def outputs():
    """Every output by name, editions first then their extras: (name, variant, checks)."""
    found = {name: edition for name, edition in EDITIONS.items()}
    for edition in EDITIONS.values():
        for extra in edition.extras:
            found[extra.name] = extra
    return found

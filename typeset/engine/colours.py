"""Each edition drawn in its own colours: the patch `colours` of WeasyPrint 70's
`pdf.stream.Stream.set_color` (engine/patches.py installs it).

Why: one layout is drawn twice, once per edition, and WeasyPrint writes every colour as the
CSS gave it — sRGB as DeviceRGB — so the press file painted text and rules in RGB under a
CMYK output intent (four plates for every character). The press needs its inks.

What: while a write runs with a palette (`drawn_with`), every colour WeasyPrint sets — text,
backgrounds, borders, rules, SVG fills and strokes — goes through it first (colour.palette:
the press's CMYK for the book's colour tokens, any other colour converted through the output
profile, greys to black ink alone). Without a palette the function is WeasyPrint's own.
"""

import contextvars
from contextlib import contextmanager

ORIGINAL = {}  # WeasyPrint's own method, kept by patches.install

PALETTE = contextvars.ContextVar("palette", default=None)


def set_color(self, color, stroke=False):
    """Replaces `weasyprint.pdf.stream.Stream.set_color`: the colour through the palette."""
    palette = PALETTE.get()
    if palette is not None and not isinstance(color, str):
        color = palette(color)
    return ORIGINAL["set_color"](self, color, stroke)


@contextmanager
def drawn_with(palette):
    """Draw with `palette` (a function from colour to colour; None: as laid out)."""
    token = PALETTE.set(palette)
    try:
        yield
    finally:
        PALETTE.reset(token)

"""Photos as the photographer delivered them: the patch `photos` of WeasyPrint 70's
`RasterImage` (engine/patches.py installs it).

Why: WeasyPrint 70 calls `ImageOps.exif_transpose` on every image that carries EXIF; Pillow
returns a copy even for orientation 1, which WeasyPrint saves again with Pillow's defaults
(JPEG quality 75, EXIF and ICC profile dropped): the press file would carry a second
generation of JPEG loss. A 16-bit PNG is embedded with its 16-bit samples declared as 8-bit:
noise. And every photo's bytes are held in memory by each PDF written from the layout.

What the patch does, and nothing else:

- `__init__`: the image is never transposed (WeasyPrint is told `none`), so a JPEG's bytes are
  kept as they are; its EXIF orientation (1–8) is kept as `turn` and applied when drawing. A
  16-bit PNG is reduced to 8 bits per sample first (the high byte) and embedded as such.
- `get_intrinsic_size`: an image turned by a quarter (orientations 5–8) lays out with its
  width and height exchanged, as it is seen.
- `draw`: the image is placed by a matrix that turns or mirrors it into the box: the pixels
  stay as stored, the page shows them upright (a lossless turn: no pixel is re-encoded).
- `get_x_object`: every image from a file names it (`/TypesetSource`, and its size and time in
  `/TypesetVersion`, so a replaced photo changes the page's proof hash); a JPEG whose bytes are
  the file's own is written as a stand-in — its dictionary complete, its data left out and
  `/TypesetPassThrough true` — so the PDFs the pipeline passes between its stages stay small
  whatever the photos weigh. The published files get the data back (embed.py: the file's
  bytes for the press, a screen-sized copy for the screen); the keys never reach them.
"""

import functools
import math
import os
from pathlib import Path

import pydyf
from PIL import Image
from weasyprint.images import LazyLocalImage

from . import colours

ORIGINAL = {}  # WeasyPrint's own methods, kept by patches.install

SOURCE, PASS_THROUGH, VERSION = "TypesetSource", "TypesetPassThrough", "TypesetVersion"


def orientation_of(pillow_image):
    """The EXIF orientation (1–8) a viewer applies; 1 when none is given or it is invalid."""
    try:
        turn = pillow_image.getexif().get(0x0112, 1)
    except Exception:  # a damaged EXIF block: the picture as stored
        return 1
    return turn if turn in range(1, 9) else 1


def shown_size(path):
    """A photo file's size as a viewer shows it (its EXIF orientation applied) and that
    orientation, from its header alone: ((width, height), turn). Kept per file, size and
    time."""
    stat = os.stat(path)
    return _shown_size(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=None)
def _shown_size(path, size, mtime):
    with Image.open(path) as image:
        stored, turn = image.size, orientation_of(image)
    return (stored if turn < 5 else stored[::-1]), turn


def sixteen_bit_png(data):
    """Whether PNG bytes hold 16-bit samples (IHDR's bit depth)."""
    return data is not None and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24 \
        and data[24] == 16


def to_eight_bits(pillow_image):
    """A 16-bit image as 8 bits per sample: Pillow already reduces 16-bit colour to its high
    bytes; 16-bit grey (I;16, I) is scaled here."""
    if pillow_image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return pillow_image.convert("I").point(lambda value: value / 257).convert("L")
    return pillow_image.copy()


class StandIn(pydyf.Object):
    """The data of a pass-through photo, left out of the PDF until it is published."""

    data = b""


def __init__(self, pillow_image, image_id, image_data, filename=None, cache=None,
             orientation="none", options=None):
    """Replaces `weasyprint.images.RasterImage.__init__`."""
    turn = orientation_of(pillow_image) if orientation == "from-image" else 1
    if orientation in ("from-image", "none"):
        orientation = "none"  # never transposed: the bytes are kept, the turn is drawn
    if pillow_image.format == "PNG" and sixteen_bit_png(image_data):
        image_format = pillow_image.format
        pillow_image = to_eight_bits(pillow_image)
        pillow_image.format = image_format
        image_data = filename = None  # embedded from the 8-bit pixels
    arguments = (pillow_image, image_id, image_data, filename, cache, orientation)
    ORIGINAL["__init__"](self, *arguments, *([options] if options is not None else []))
    self.turn = turn if orientation == "none" else 1
    self.source = str(Path(filename).resolve()) if filename else None
    if self.format == "JPEG" and isinstance(self.image_data, LazyLocalImage):
        self.image_data = StandIn()


def get_intrinsic_size(self, resolution, font_size):
    """Replaces `RasterImage.get_intrinsic_size`: as seen, once turned."""
    width, height, ratio = ORIGINAL["get_intrinsic_size"](self, resolution, font_size)
    if getattr(self, "turn", 1) >= 5:
        return height, width, (1 / ratio if ratio else math.inf)
    return width, height, ratio


# Where a stored pixel (x, y: fractions, from the top left) is seen, per EXIF orientation:
# (x₀, x per x, x per y), (y₀, y per x, y per y).
_SEEN = {1: ((0, 1, 0), (0, 0, 1)), 2: ((1, -1, 0), (0, 0, 1)), 3: ((1, -1, 0), (1, 0, -1)),
         4: ((0, 1, 0), (1, 0, -1)), 5: ((0, 0, 1), (0, 1, 0)), 6: ((1, 0, -1), (0, 1, 0)),
         7: ((1, 0, -1), (1, -1, 0)), 8: ((0, 0, 1), (1, -1, 0))}


def placement(turn, width, height):
    """The matrix (a b c d e f) that draws an image's unit square into a box of `width` ×
    `height` (y downwards, as WeasyPrint draws) turned by EXIF orientation `turn`."""
    (p0, p1, p2), (q0, q1, q2) = _SEEN[turn]
    # The unit square's (u, v) is the stored pixel (x = u, y = 1 − v).
    return (width * p1, height * q1, -width * p2, -height * q2, width * (p0 + p2),
            height * (q0 + q2))


def draw(self, stream, concrete_width, concrete_height, style):
    """Replaces `RasterImage.draw`: the image placed turned by its EXIF orientation."""
    turn = getattr(self, "turn", 1)
    if turn == 1 or self._dpi:
        return ORIGINAL["draw"](self, stream, concrete_width, concrete_height, style)
    if self.width <= 0 or self.height <= 0:
        return
    interpolate = style["image_rendering"] == "auto"
    image_name = stream.add_image(self, interpolate, 1)
    stream.transform(*placement(turn, concrete_width, concrete_height))
    stream.draw_x_object(image_name)


def get_x_object(self, interpolate, dpi_ratio):
    """Replaces `RasterImage.get_x_object`: the image names its file; a pass-through JPEG is a
    stand-in. In the press's files (drawn through a palette) a photo is never interpolated:
    PDF/X forbids `/Interpolate true` (veraPDF's clause 6.2.7.1-3 states the rule)."""
    if colours.PALETTE.get() is not None:
        interpolate = False
    x_object = ORIGINAL["get_x_object"](self, interpolate, dpi_ratio)
    if getattr(self, "source", None):
        stat = os.stat(self.source)
        x_object.extra[SOURCE] = pydyf.String(str(self.source))
        x_object.extra[VERSION] = pydyf.String(f"{stat.st_size}:{stat.st_mtime_ns}")
        if isinstance(self.image_data, StandIn):
            x_object.extra[PASS_THROUGH] = "true"
    return x_object


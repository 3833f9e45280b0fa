"""Photos: their effective resolution where they are placed, and screen-sized copies."""

import hashlib
import math
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image
from weasyprint.formatting_structure import boxes

from .render import to_mm

CSS_PX_PER_INCH = 96


def placed(document):
    """(page index, image file, pixel width, placed width in inches) for every raster photo."""
    for index, page in enumerate(document.pages):
        for box in _boxes(page._page_box):
            if not isinstance(box, boxes.ReplacedBox) or box.element_tag != "img":
                continue
            source = box.element.get("src", "")
            if not source.startswith("file:") or source.endswith(".svg"):
                continue
            path = Path(unquote(urlsplit(source).path))
            with Image.open(path) as image:
                pixels = image.size
            # object-fit: cover fills the slot: the image's scale is the larger of the two.
            scale = max(box.width / pixels[0], box.height / pixels[1])
            yield index, path, pixels, pixels[0] * scale / CSS_PX_PER_INCH


def _boxes(box):
    """Every box of a page, including absolutely positioned ones (the photo in its slot),
    which WeasyPrint keeps behind a placeholder that `descendants()` does not open."""
    box = getattr(box, "_box", box)
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _boxes(child)


def effective_dpi(pixels, inches):
    return pixels[0] / inches if inches else math.inf


def downsample(writer, book, cache_dir):
    """Shrink every photo larger than a full page at the screen resolution (trim height at
    `screen_dpi`). Resized pixels are cached losslessly by the original's hash, so a warm
    build writes the same bytes as a cold one."""
    limit = math.ceil(to_mm(book.design["trim_height"]) / 25.4 * book.production["screen_dpi"])
    for page in writer.pages:
        for image in page.images:
            original = image.image
            if max(original.size) <= limit:
                continue
            key = hashlib.sha256(image.data).hexdigest()[:32]
            cached = Path(cache_dir) / f"{key}-{limit}.png"
            if cached.is_file():
                small = Image.open(cached)
                small.load()
            else:
                small = original.convert("RGB")
                small.thumbnail((limit, limit), Image.LANCZOS)
                cached.parent.mkdir(parents=True, exist_ok=True)
                small.save(cached)
            image.replace(small, quality=85)

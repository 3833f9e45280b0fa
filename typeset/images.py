"""Photos: their effective resolution where they are placed, and screen-sized copies."""

import hashlib
import io
import math
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image
from pypdf.generic import NameObject, NumberObject
from weasyprint.formatting_structure import boxes

from .units import to_mm

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


def placed_sizes(document):
    """The widest placed width (inches) of each photo file, by the hash of its bytes — the key
    under which the screen edition finds the photo again in the PDF (JPEGs are embedded as they
    came)."""
    sizes = {}
    for _, path, _, inches in placed(document):
        key = digest(path.read_bytes())
        sizes[key] = max(sizes.get(key, 0), inches)
    return sizes


def digest(data):
    return hashlib.sha256(data).hexdigest()[:32]


def downsample(writer, book, placed_inches, cache_dir):
    """JPEG photos at `screen_dpi` for their placed size (a full page when the size is not
    known). Each image is handled once however many pages share it; the resized JPEG is cached
    by the original's hash, so a warm build writes the same bytes as a cold one."""
    dpi = book.production["screen_dpi"]
    page_limit = math.ceil(to_mm(book.design["trim_height"]) / 25.4 * dpi)
    done = set()
    for page in writer.pages:
        for reference in page.get("/Resources", {}).get("/XObject", {}).values():
            image = reference.get_object()
            if id(image) in done or image.get("/Subtype") != "/Image" \
                    or image.get("/Filter") != "/DCTDecode":
                continue
            done.add(id(image))
            key = digest(image._data)
            inches = placed_inches.get(key)
            limit = math.ceil(inches * dpi) if inches else page_limit
            if max(image["/Width"], image["/Height"]) <= limit:
                continue
            small = _resized(image._data, key, limit, book.production["screen_quality"],
                             Path(cache_dir))
            with Image.open(io.BytesIO(small)) as resized:
                width, height = resized.size
            image._data = small
            image[NameObject("/Width")] = NumberObject(width)
            image[NameObject("/Height")] = NumberObject(height)


def _resized(data, key, limit, quality, cache_dir):
    """The photo as a JPEG whose width is at most `limit` px (cached by the original's hash)."""
    cached = cache_dir / f"{key}-{limit}-q{quality}.jpg"
    if cached.is_file():
        return cached.read_bytes()
    with Image.open(io.BytesIO(data)) as original:
        photo = original.convert("RGB")
    scale = limit / photo.width
    photo = photo.resize((limit, max(1, round(photo.height * scale))), Image.LANCZOS)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality, optimize=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(buffer.getvalue())
    return buffer.getvalue()

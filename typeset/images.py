"""Photos: whether a file can be used at all, their effective resolution where they are
placed, and screen-sized copies.

A file under images/ that the content names is checked when the content loads (`check`,
called by `content.image`), before anything is laid out: a file that Pillow cannot open, a
damaged or truncated one, one that is not the type its extension says, one larger than
Pillow's decompression-bomb limit, and an SVG that is not well-formed or refers to anything
outside itself (another file, a network URL, an XML entity) each stop the build with a
ContentError at the content's file:line, naming the image and the fix. They are errors, not
placeholders: a photo that has arrived but is broken must be replaced before the press, and a
placeholder would hide that. A file that has not arrived at all is still a placeholder and a
warning (preflight's `missing-image`).
"""

import hashlib
import io
import math
import re
import warnings
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from PIL import Image, ImageFile, UnidentifiedImageError
from pypdf.generic import NameObject, NumberObject

from . import files
from .units import to_mm


# What each file name extension promises (MPO: the JPEG variant many cameras write).
FORMATS = {".jpg": ("JPEG", "MPO"), ".jpeg": ("JPEG", "MPO"), ".png": ("PNG",)}


class Unusable(Exception):
    """A photo file the build cannot use: what is wrong with it and how to fix it."""

    def __init__(self, message, hint):
        super().__init__(message)
        self.message = message
        self.hint = hint


def check(file):
    """Raise Unusable unless `file` is a whole image of the type its name says (JPEG, PNG) or
    a self-contained SVG. Quick: a JPEG is decoded at an eighth of its size (a truncated one
    still fails), a PNG's chunks are read and their checksums verified."""
    file = Path(file)
    if file.suffix.lower() == ".svg":
        return check_svg(file.read_bytes())
    expected = FORMATS[file.suffix.lower()]
    # WeasyPrint lets Pillow load truncated files (it sets this on import): not here.
    lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with warnings.catch_warnings():
            # Past Pillow's limit it only warns; past twice the limit it refuses. Both stop here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                if image.format not in expected:
                    raise Unusable(f"is a {image.format} file, not a {expected[0]} as its name "
                                   "says", f"save it as {expected[0]}, or give it the extension "
                                   f".{image.format.lower()} (here and in the content)")
                if image.format == "PNG":
                    image.verify()
                else:
                    image.draft(image.mode, (max(1, image.width // 8),
                                             max(1, image.height // 8)))
                    image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        size = re.search(r"\((\d+) pixels\)", str(error))
        raise Unusable(f"has {size[1] if size else 'too many'} pixels, more than Pillow's limit "
                       f"of {Image.MAX_IMAGE_PIXELS} (a decompression bomb?)",
                       "supply the photo at its print size (a few thousand pixels a side)")
    except UnidentifiedImageError:
        raise Unusable(f"is not a {expected[0]} image (empty, damaged or another kind of file)",
                       "replace it with the original photo")
    except Unusable:
        raise
    except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, ValueError …
        raise Unusable(f"is damaged or truncated ({error})", "replace it with the original photo")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
_REFERENCE_ATTRIBUTES = {"href", "src", "{http://www.w3.org/1999/xlink}href"}
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)|"
                      r"@import\s*(?:url\(\s*)?['\"]?\s*([^'\")\s;]*)", re.I)


def _entity_declarations(data):
    """The names of the XML entities the document declares (in whatever encoding)."""
    parser = expat.ParserCreate()
    names = []
    parser.EntityDeclHandler = lambda name, *_: names.append(name)
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        pass  # not well-formed: the parse in check_svg says so
    return names


def check_svg(data):
    """Raise Unusable unless `data` is a well-formed SVG that refers to nothing outside itself:
    only `#fragment` and `data:` references, no XML entities."""
    if _entity_declarations(data):
        raise Unusable("declares XML entities (<!ENTITY …>)",
                       "remove the DOCTYPE's entity declarations and write the text out")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise Unusable(f"is not well-formed SVG ({error})", "export the SVG again")
    if root.tag not in (f"{SVG_NAMESPACE}svg", "svg"):
        raise Unusable(f"is not an SVG image (its root element is <{root.tag}>)",
                       "export the drawing as SVG")
    for element in root.iter():
        references = [value for name, value in element.attrib.items()
                      if name in _REFERENCE_ATTRIBUTES]
        css = list(element.attrib.values())
        if element.tag in (f"{SVG_NAMESPACE}style", "style"):
            css.append(element.text or "")
        references += [url or imported for text in css
                       for url, imported in _CSS_URL.findall(text)]
        for reference in references:
            reference = reference.strip()
            if reference and not reference.startswith("#") \
                    and not reference.lower().startswith("data:"):
                raise Unusable(f"refers to `{reference}`: an SVG must be self-contained",
                               "embed what it shows in the SVG (a data: URL) or remove the "
                               "reference")


def placed(pages):
    """(page index, image file, pixels, placed width in inches, visible part) for every raster
    photo of the laid-out pages (pages.Page records); the visible part is the fraction of its
    width and height the slot shows (object-fit: cover crops a photo whose shape differs from
    the slot's, centred)."""
    for index, page in enumerate(pages):
        for path, pixels, inches, wide, high in page.photos:
            yield index, Path(path), tuple(pixels), inches, (wide, high)


def effective_dpi(pixels, inches):
    return pixels[0] / inches if inches else math.inf


def placed_sizes(pages):
    """[widest placed width (inches), visible width and height fractions] of each photo file,
    over all its placements, by the hash of its bytes — the key under which the screen edition
    finds the photo again in the PDF (JPEGs are embedded as they came)."""
    sizes, keys = {}, {}
    for _, path, _, inches, (wide, high) in placed(pages):
        if path not in keys:  # a photo placed twice is read and hashed once
            keys[path] = digest(path.read_bytes())
        key = keys[path]
        before = sizes.get(key, [0, 0, 0])
        sizes[key] = [max(before[0], inches), max(before[1], wide), max(before[2], high)]
    return sizes


def digest(data):
    return hashlib.sha256(data).hexdigest()[:32]


def downsample(writer, book, placed_inches, cache_dir):
    """JPEG photos at `screen_dpi` for their placed size (a full page when the size is not
    known). Each image is handled once however many pages share it; the resized JPEG is cached
    by the original's hash, so a warm build writes the same bytes as a cold one."""
    dpi = book.production["screen_dpi"]
    page_limit = math.ceil(to_mm(book.design["trim_height"]) / 25.4 * dpi)
    done, used = set(), set()
    for page in writer.pages:
        for reference in page.get("/Resources", {}).get("/XObject", {}).values():
            image = reference.get_object()
            if id(image) in done or image.get("/Subtype") != "/Image" \
                    or image.get("/Filter") != "/DCTDecode":
                continue
            done.add(id(image))
            key = digest(image._data)
            inches, *visible = placed_inches.get(key) or (None, 1, 1)
            limit = math.ceil(inches * dpi) if inches else page_limit
            if max(image["/Width"], image["/Height"]) <= limit:
                continue
            small = _resized(image._data, key, limit, book.production["screen_quality"],
                             Path(cache_dir), visible, used)
            with Image.open(io.BytesIO(small)) as resized:
                width, height = resized.size
            image._data = small
            image[NameObject("/Width")] = NumberObject(width)
            image[NameObject("/Height")] = NumberObject(height)
    files.forget_others(cache_dir, "*.jpg", used)  # this build's photos only


def _resized(data, key, limit, quality, cache_dir, visible=(1, 1), used=None):
    """The photo as a JPEG whose width is at most `limit` px (cached by the original's hash).
    What its slot crops away is never seen: it is flattened to one colour, which JPEG stores
    in almost nothing, keeping a margin of real pixels around the visible part."""
    wide, high = (round(fraction, 3) for fraction in visible)
    cached = cache_dir / f"{key}-{limit}-q{quality}-v{wide}x{high}.jpg"
    if used is not None:
        used.add(cached.name)
    if cached.is_file():
        return cached.read_bytes()
    with Image.open(io.BytesIO(data)) as original:
        photo = original.convert("RGB")
    scale = limit / photo.width
    photo = photo.resize((limit, max(1, round(photo.height * scale))), Image.LANCZOS)
    _flatten_outside(photo, wide, high)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=quality, optimize=True)
    files.write_atomically(cached, buffer.getvalue())
    return buffer.getvalue()


CROP_MARGIN = 16  # px of real image kept beyond the visible edge (two JPEG blocks)


def _flatten_outside(photo, wide, high):
    """Paint what lies outside the centred visible part (fractions of width and height) with
    the visible part's mean colour."""
    width, height = photo.size
    keep_w = min(width, math.ceil(width * wide) + 2 * CROP_MARGIN)
    keep_h = min(height, math.ceil(height * high) + 2 * CROP_MARGIN)
    if keep_w >= width and keep_h >= height:
        return
    left, top = (width - keep_w) // 2, (height - keep_h) // 2
    box = (left, top, left + keep_w, top + keep_h)
    kept = photo.crop(box)
    mean = kept.resize((1, 1), Image.BOX).getpixel((0, 0))
    photo.paste(mean, (0, 0, width, height))
    photo.paste(kept, box[:2])

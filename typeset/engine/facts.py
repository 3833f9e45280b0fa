"""What the checks need to know of each laid-out page, as plain data.

WeasyPrint's layout lives in the process that made it: its boxes hold Pango objects that
cannot be pickled. When parts of the book are laid out in other processes (render), each
part's pages are read here, where they were laid out, into `Page` records that travel back
with the part's PDFs; preflight and the layout manifest read only these records.
"""

import hashlib
from dataclasses import dataclass, field

from weasyprint.formatting_structure import boxes as wboxes

from .. import files
from . import grid
from .photos import shown_size

CSS_PX_PER_INCH = 96
OVERFLOW_TOLERANCE_PX = 1.0
HEADINGS = {"heading", "table-title", "section-title"}
# Pieces of the book that must fit one page: the cover, the title page, the colophon.
ONE_PAGE = {"cover", "title-page", "colophon"}


@dataclass
class Paragraph:
    """A piece of a horizontal paragraph on one page."""

    key: tuple           # the same for every piece of one paragraph
    source: str | None   # content file:line
    lines: int
    continues: bool      # goes on on the next page
    last_line: str       # the text of its last line on this page


@dataclass
class Photo:
    """A raster photo as placed in its slot."""

    file: str            # its file
    source: str | None   # content file:line
    pixels: tuple        # width, height as seen (its EXIF orientation applied)
    turn: int            # its EXIF orientation (1–8): how the stored pixels are turned
    inches: float        # the width the whole photo is drawn at (cover: wider than the slot)
    window: tuple        # the part the slot shows: x0, y0, x1, y1, fractions of the photo seen


@dataclass
class Inscription:
    """A piece of a vertical inscription (題辭) on one page."""

    key: tuple           # the same for every piece of one inscription
    source: str | None   # content file:line
    outside: list        # ("signature" or "lines", side, px) drawn outside the page area


@dataclass
class Page:
    anchors: list = field(default_factory=list)    # element ids, in order
    photos: list = field(default_factory=list)     # Photo of each raster photo drawn
    slots: list = field(default_factory=list)      # image paths of the slots drawn (data-image)
    overflows: list = field(default_factory=list)  # (source, side, px past the page area)
    headings: list = field(default_factory=list)   # (source, px left below the heading)
    paragraphs: list = field(default_factory=list)
    inscriptions: list = field(default_factory=list)  # Inscription of each 題辭 on it
    singles: list = field(default_factory=list)    # (class, source) of ONE_PAGE pieces on it
    # How far down the type area the content reaches (0–1; None: nothing on the page), the
    # source of the block lowest on it, and whether the page is full by design (a full-bleed
    # photo, an inscription's columns).
    filled: float | None = None
    last_source: str | None = None
    designed_full: bool = False
    # What the page shows, in a line: each box's kind, place and size, its text or image —
    # equal for two layouts of the page that draw the same (the live proof's changed pages
    # before the editions are written).
    digest: str = ""


def read(pages, part=0):
    """Facts of WeasyPrint pages; `part` tells apart the paragraphs of parts laid out
    separately."""
    keys = {}
    return [_page(page, part, keys) for page in pages]


def _page(page, part, keys):
    record = Page(anchors=list(page.anchors))
    box = page._page_box
    left, top = box.content_box_x(), box.content_box_y()
    right, bottom = left + box.width, top + box.height
    overflowing = set()
    lowest = None
    seen = hashlib.sha256()
    for box, source, skipped in _walk(page._page_box):
        element = getattr(box, "element", None)
        seen.update(_drawn(box))
        if source is not None and skipped:
            record.designed_full = True
        if source is not None and grid.marks_extent(box):
            end = box.position_y + box.margin_height()
            if top <= box.position_y < bottom and (lowest is None or end > lowest):
                lowest, record.last_source = end, source
        if isinstance(box, wboxes.ReplacedBox) and box.element_tag == "img":
            photo = _photo(box, source)
            if photo:
                record.photos.append(photo)
        if element is not None and element.get("data-image"):
            record.slots.append(element.get("data-image"))
        if (source is not None and not skipped and source not in overflowing
                and isinstance(box, (wboxes.LineBox, wboxes.ReplacedBox, wboxes.TableBox))):
            over = {"right": box.position_x + box.width - right,
                    "foot": box.position_y + box.height - bottom,
                    "head": top - box.position_y}  # a box placed at the foot, too tall
            side = max(over, key=over.get)
            if over[side] > OVERFLOW_TOLERANCE_PX:
                overflowing.add(source)
                record.overflows.append((source, side, over[side]))
        if not isinstance(box, wboxes.BlockBox) or element is None:
            continue
        classes = element.get("class") or ""
        for name in ONE_PAGE & set(classes.split()):
            if (name, source) not in record.singles:
                record.singles.append((name, source))
        if HEADINGS & set(classes.split()):
            record.headings.append((source, bottom - (box.position_y + box.margin_height())))
        if grid.FULL & set(classes.split()):  # a page of its own by design (grid.FULL)
            record.designed_full = True
        if "inscription" in classes.split():  # a 題辭's figure: one piece on each page
            key = keys.setdefault(element, (part, len(keys)))
            record.inscriptions.append(Inscription(key, source, _outside(box, (left, top, right,
                                                                              bottom))))
        if element.tag == "p" and "inscription" not in classes:  # the 題辭 are vertical
            lines = [child for child in box.children if isinstance(child, wboxes.LineBox)]
            if lines:
                key = keys.setdefault(element, (part, len(keys)))
                text = "".join(b.text for b, _, _ in _walk(lines[-1])
                               if isinstance(b, wboxes.TextBox))
                record.paragraphs.append(Paragraph(
                    key, source, len(lines), bool(getattr(box, "remove_decoration_bottom",
                                                          False)), text))
    record.digest = seen.hexdigest()
    if getattr(page._page_box, "typeset_plate", False):  # one photo alone, centred (grid)
        record.designed_full = True
    if lowest is not None:
        record.filled = min(1.0, (lowest - top) / (bottom - top))
    return record


def _drawn(box):
    """One box as drawn: its kind, place and size (to a hundredth of a px), its text, its
    image, its colour and background."""
    style = box.style
    text = getattr(box, "text", "") if isinstance(box, wboxes.TextBox) else ""
    image = box.element.get("src", "") if isinstance(box, wboxes.ReplacedBox) else ""
    size = [value if isinstance(value, (int, float)) else 0 for value in (box.width, box.height)]
    return (f"{type(box).__name__} {box.position_x:.2f} {box.position_y:.2f} "
            f"{size[0]:.2f} {size[1]:.2f} {text} {image} {style['color']} "
            f"{style['background_color']}\n").encode()


def _outside(box, area):
    """How far the text of an inscription is drawn outside the page area: the worst side of
    its signature and of its lines, [(part, side, px)]."""
    left, top, right, bottom = area
    signature = set()
    for child, _, _ in _walk(box):
        element = getattr(child, "element", None)
        if element is not None and "inscription-signature" in (element.get("class") or ""):
            signature.update(id(text) for text, _, _ in _walk(child)
                             if isinstance(text, wboxes.TextBox))
    worst = {}
    for child, _, _ in _walk(box):
        if not isinstance(child, wboxes.TextBox):
            continue
        part = "signature" if id(child) in signature else "lines"
        for side, amount in (("foot", child.position_y + child.height - bottom),
                             ("head", top - child.position_y),
                             ("left", left - child.position_x),
                             ("right", child.position_x + child.width - right)):
            if amount > max(OVERFLOW_TOLERANCE_PX, worst.get(part, ("", 0))[1]):
                worst[part] = (side, amount)
    return [(part, side, amount) for part, (side, amount) in sorted(worst.items())]


def _walk(box, source=None, skipped=False):
    """Every box of a page with the content file:line of the block it belongs to, and
    whether it is inside a full-bleed figure (which runs past the page area on purpose).
    Absolutely placed boxes (the photo in its slot) are opened too."""
    box = getattr(box, "_box", box)
    element = getattr(box, "element", None)
    if element is not None:
        if "figure--bleed" in (element.get("class") or "").split():
            skipped = True
        if element.get("data-source"):
            source = element.get("data-source")
    yield box, source, skipped
    for child in getattr(box, "children", None) or ():
        yield from _walk(child, source, skipped)


def _photo(box, source):
    """The photo an <img> draws, how large and which part of it (object-fit and
    object-position, given to the slot's image as data-fit and data-focus)."""
    url = box.element.get("src", "")
    if not url.startswith("file:") or url.endswith(".svg"):
        return None
    path = files.from_uri(url).resolve()
    pixels, turn = shown_size(path)
    fit = box.element.get("data-fit") or "cover"
    focus = [float(value.rstrip("%")) / 100
             for value in (box.element.get("data-focus") or "50% 50%").split()]
    fits = max if fit == "cover" else min
    scale = fits(box.width / pixels[0], box.height / pixels[1])
    drawn = (pixels[0] * scale, pixels[1] * scale)
    window = []
    for axis, size in ((0, box.width), (1, box.height)):
        offset = (size - drawn[axis]) * focus[axis]  # ≤ 0 when the photo is cropped
        window.append((max(0.0, -offset / drawn[axis]),
                       min(1.0, (size - offset) / drawn[axis])))
    (x0, x1), (y0, y1) = window
    return Photo(str(path), source, tuple(pixels), turn, drawn[0] / CSS_PX_PER_INCH,
                 (round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4)))


def anchors(pages):
    """Each anchor's first page (0-based)."""
    found = {}
    for index, page in enumerate(pages):
        for name in page.anchors:
            found.setdefault(name, index)
    return found

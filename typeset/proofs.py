"""Proofs: the book as a reader and a designer see it, rendered from the PDF with pypdfium2.

- `spreads()` writes the facing-page spreads in reader order (page 1 alone on the right), each
  page trimmed to its TrimBox, on a grey ground with its printed folio underneath, at a size
  where the 10.5 pt body text can be read: the proof the editor reads.
- `contact_sheet()` writes every page as a thumbnail on one sheet, in spreads, with the folios:
  the overview pinned on the wall. Pages given as `changed` get a thick red frame and a red dot.
- `changes.changed_pages()` tells which pages differ between two builds (changes.py).
- `proofs()` runs them together; given the previous build's PDF it re-renders only the spreads
  holding changed pages and marks those pages on the contact sheet.

Each call renders a page at most once (the contact-sheet thumbnail is scaled down from the
spread's bitmap) and closes its pdfium document. Nothing here calls an external program.
"""

import math
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader

from . import embed, files
from .changes import changed_pages
from .model import Manifest

DPI = 100                       # 10.5 pt body text is ~15 px: legible on screen
THUMB_HEIGHT = 170              # contact-sheet thumbnail height, px
BACKGROUND = (150, 150, 150)    # neutral grey around the pages
INK = (25, 25, 25)              # folios and captions on the grey
MARK = (220, 0, 0)              # changed pages
SPREAD_NAME = "spreads-{:0{width}d}.png"
SHEET_NAME = "contact-sheet.png"


@dataclass
class Proofs:
    """What `proofs()` wrote: the contact sheet, the spread images and the changed pages
    (0-based; None when no previous build was compared)."""

    contact_sheet: Path
    spreads: list = field(default_factory=list)
    changed: list | None = None

    @property
    def paths(self):
        return [self.contact_sheet, *self.spreads]


# ---------------------------------------------------------------------------------------------
# Reader order and folios

def spread_layout(page_count):
    """The spreads as (left, right) 0-based page pairs, None for an empty side: page 1 alone on
    the right, then (2, 3), (4, 5)…, and the last page alone on the left when the count is
    even — how the bound book opens."""
    layout = [(None, 0)] if page_count else []
    for left in range(1, page_count, 2):
        layout.append((left, left + 1 if left + 1 < page_count else None))
    return layout


def folios(pdf_path, manifest=None):
    """The printed folio of each page: from the layout manifest when given (a `Manifest` or the
    path of its JSON; front matter gets roman numerals, as the PDF's page labels do), else the
    PDF's own page labels."""
    manifest = _load_manifest(manifest)
    reader = PdfReader(str(pdf_path))
    if manifest is None:
        return list(reader.page_labels)
    page_count = len(reader.pages)
    # The press edition may carry blank pages added for the binding (`padding`).
    planned = getattr(manifest, "page_count", page_count) + getattr(manifest, "padding", 0)
    if planned != page_count:
        raise ValueError(f"{pdf_path}: {page_count} pages but the manifest lays out {planned} "
                         "— pass the manifest of this build")
    return _labels(manifest, page_count)


def _labels(manifest, page_count):
    labels = []
    for page in range(page_count):
        folio = manifest.folio(page)
        labels.append(roman(page + 1) if folio is None else f"{folio:02d}")
    return labels


def roman(number):
    """Lower-case roman numerals, as front-matter folios are printed (4 → iv)."""
    digits = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
              (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
    text = ""
    for value, letters in digits:
        count, number = divmod(number, value)
        text += letters * count
    return text


def _load_manifest(manifest):
    if manifest is None or hasattr(manifest, "folio"):
        return manifest
    return Manifest.from_json(Path(manifest).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Public entry points

def drawable(pdf, proof, allowed):
    """The PDF a proof is drawn from: `pdf` itself, or when its photos are stand-ins (the
    build's finished copy, .cache/finished) a copy at `proof` with small drafts of them
    (embed.drafts, from files under `allowed`), under the same name (the contact sheet shows
    it)."""
    data = Path(pdf).read_bytes()
    if not embed.has_stand_ins(data):
        return Path(pdf)
    files.write_cache(proof, embed.drafts(data, allowed))
    return Path(proof)


def spreads_holding(pages, page_count):
    """The numbers of the spreads (from 1) that hold any of `pages` (0-based indexes)."""
    return {number for number, pair in enumerate(spread_layout(page_count), 1)
            if any(page in pages for page in pair if page is not None)}


def spreads(pdf_path, out_dir, manifest=None, dpi=DPI, only=None, changed=(), pages=None):
    """Write the book's spreads as out_dir/spreads-NN.png (NN from 01, one spread an image) and
    return their paths. `only` limits the output to those spread numbers; pages in `changed`
    get their folio in red with a red dot. `pages`: the PDF holds only these pages of the book
    (0-based, in order: the spreads `only` names, drawn early for the live proof), and the
    `manifest` says how many the book has."""
    written, _ = _render_proofs(pdf_path, out_dir, manifest, dpi, only, None, changed,
                                pages=pages)
    return written


def contact_sheet(pdf_path, out_path, manifest=None, changed=(), thumb_height=THUMB_HEIGHT):
    """Write every page as a thumbnail on one PNG, in spreads, with its folio; pages whose
    0-based index is in `changed` get a thick red frame and a red dot. Returns the path."""
    _, sheet = _render_proofs(pdf_path, None, manifest, None, set(), out_path, changed,
                              thumb_height)
    return sheet


def proofs(pdf_path, out_dir, manifest=None, previous=None, dpi=DPI, current=None):
    """Spreads and contact sheet into `out_dir`. Given `previous` (the last build's PDF), only
    the spreads holding changed pages are rendered again — under their own spread numbers, so
    the unchanged ones from the last run stay valid — and those pages are marked. `current`:
    what `previous` is compared with when not `pdf_path` itself (the build keeps both with
    their photos left out, .cache/previous and .cache/finished)."""
    out_dir = Path(out_dir)
    changed = None
    only = None
    if previous is not None:
        changed = changed_pages(previous, current or pdf_path)
        only = spreads_holding(changed, _page_count(pdf_path))
    written, sheet = _render_proofs(pdf_path, out_dir, manifest, dpi, only,
                                    out_dir / SHEET_NAME, changed or ())
    return Proofs(sheet, written, changed)


# ---------------------------------------------------------------------------------------------
# Rendering

def _page_count(pdf_path):
    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        return len(doc)
    finally:
        doc.close()


def _trim(page):
    """The page's trimmed size in points and the crop (left, bottom, right, top) that takes the
    rendered area (MediaBox ∩ CropBox) to the TrimBox, in the rendered orientation."""
    left, bottom, right, top = page.get_bbox()
    box = page.get_trimbox(fallback_ok=False)
    if box is None:
        crop = (0.0, 0.0, 0.0, 0.0)
    else:
        crop = tuple(max(0.0, amount) for amount in
                     (box[0] - left, box[1] - bottom, right - box[2], top - box[3]))
    turns = (page.get_rotation() // 90) % 4
    crop = crop[turns:] + crop[:turns]          # crop applies after the page's /Rotate
    width, height = (top - bottom, right - left) if turns % 2 else (right - left, top - bottom)
    width, height = width - crop[0] - crop[2], height - crop[1] - crop[3]
    return (width, height), crop


def _render(page, crop, scale):
    bitmap = page.render(scale=scale, crop=crop, rev_byteorder=True)
    try:
        return bitmap.to_pil().convert("RGB")   # a copy: the bitmap's buffer is freed below
    finally:
        bitmap.close()


def _render_proofs(pdf_path, out_dir, manifest, dpi, only, sheet_path, changed,
                   thumb_height=THUMB_HEIGHT, pages=None):
    """One pass over the PDF: render each page that a wanted spread or the sheet needs, once,
    write the wanted spreads as they complete and the sheet at the end."""
    changed = set(changed)
    written, thumbs, saving = [], {}, []
    # PNG encoding releases the GIL: spreads are saved on a thread while the next renders.
    saver = ThreadPoolExecutor(max_workers=1)
    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        if pages is None:  # the whole book
            labels = folios(pdf_path, manifest)
            at = {index: index for index in range(len(doc))}
        else:              # some of its pages: the book's count from the manifest
            manifest = _load_manifest(manifest)
            labels = _labels(manifest, manifest.page_count + manifest.padding)
            at = {index: place for place, index in enumerate(pages)}
        pages = len(labels)
        layout = spread_layout(pages)
        sizes, crops = {}, {}
        for index, place in at.items():
            page = doc[place]
            try:
                sizes[index], crops[index] = _trim(page)
            finally:
                page.close()
        thumb_scale = thumb_height / max((height for _, height in sizes.values()), default=1)
        digits = max(2, len(str(len(layout))))
        if out_dir is not None:
            out_dir = Path(out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            _remove_stale(out_dir, len(layout))
        for number, pair in enumerate(layout, 1):
            wanted = out_dir is not None and (only is None or number in only)
            if not wanted and sheet_path is None:
                continue
            # A spread is rendered at `dpi`; a page only the sheet needs at twice its size.
            scale = dpi / 72 if wanted else 2 * thumb_scale
            images = {}
            for index in pair:
                if index is None or index not in at:
                    continue
                page = doc[at[index]]
                try:
                    images[index] = _render(page, crops[index], scale)
                finally:
                    page.close()
                if sheet_path is not None:
                    thumbs[index] = images[index].resize(
                        _scaled(sizes[index], thumb_scale), Image.Resampling.LANCZOS,
                        reducing_gap=2.0)
            if wanted:
                path = out_dir / SPREAD_NAME.format(number, width=digits)
                image = _spread_image(pair, images, labels, changed, dpi)
                if len(saving) >= 2:   # at most two spreads waiting in memory
                    saving.pop(0).result()
                # An early spread (`pages`) is drawn again after the build: saved fast.
                saving.append(saver.submit(_save_png, image, path) if pages is not None else
                              saver.submit(image.save, path, compress_level=3))
                written.append(path)
        for future in saving:
            future.result()            # a failed write raises here
    finally:
        doc.close()
        saver.shutdown(wait=True)
    sheet = None
    if sheet_path is not None:
        sheet = Path(sheet_path)
        sheet.parent.mkdir(parents=True, exist_ok=True)
        title = f"{Path(pdf_path).name}  |  {pages} pages"
        marked = sorted(page for page in changed if page < pages)
        if len(marked) > 12:           # a reflow: say where it starts
            title += f"  |  {len(marked)} pages changed, from {labels[marked[0]]}"
        elif marked:
            title += f"  |  changed: {', '.join(labels[page] for page in marked)}"
        _sheet_image(layout, thumbs, labels, changed, title, thumb_height).save(
            sheet, compress_level=3)
    return written, sheet


def _save_png(image, path):
    """An RGB image as a PNG, its rows unfiltered, deflated at level 1: in half the time of
    Pillow's, which tries five filters on every row (0.05 s a spread, not 0.1 s; smaller for
    pages of type and flat colour, larger for photos) — for the early spread, on the proof
    page as soon as it is saved and replaced by the finished edition's after the build."""
    width, height = image.size
    raw, stride = image.tobytes(), 3 * width
    rows = b"".join(b"\0" + raw[top:top + stride] for top in range(0, len(raw), stride))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                           + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def _remove_stale(out_dir, count):
    """Spread images numbered past the book's last spread are from a longer build: remove them."""
    for path in out_dir.glob("spreads-*.png"):
        match = re.fullmatch(r"spreads-(\d+)\.png", path.name)
        if match and int(match[1]) > count:
            path.unlink()


def _scaled(size, scale):
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):       # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _label(draw, centre_x, top, text, font, size, marked):
    """A folio centred under a page; a changed page's is red, with a red dot before it."""
    draw.text((centre_x, top), text, fill=MARK if marked else INK, font=font, anchor="mt")
    if marked:
        half = draw.textlength(text, font=font) / 2
        radius = max(3, size // 3)
        x, y = centre_x - half - radius * 2, top + size / 2
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=MARK)


def _spread_image(pair, images, labels, changed, dpi):
    """One spread: the two trimmed pages meeting at a thin gutter, centred on a grey ground,
    each folio small underneath. A single page keeps its side; the other stays empty."""
    margin, gutter = round(dpi / 4), max(2, round(dpi / 25))
    size = max(10, round(dpi / 8))
    present = [images[index] for index in pair if index is not None]
    blank = present[0].size
    left, right = (images[index].size if index is not None else blank for index in pair)
    height = max(left[1], right[1])
    canvas = Image.new("RGB", (2 * margin + left[0] + gutter + right[0],
                               margin + height + 2 * size + margin // 2), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = _font(size)
    spine = margin + left[0]
    for index, x in zip(pair, (spine - left[0], spine + gutter)):
        if index is None:
            continue
        image = images[index]
        canvas.paste(image, (x, margin))
        _label(draw, x + image.width / 2, margin + height + size // 2, labels[index], font,
               size, index in changed)
    return canvas


def _sheet_image(layout, thumbs, labels, changed, title, thumb_height):
    """All pages as thumbnails, spread by spread in rows, with folios; changed pages framed."""
    size = max(10, thumb_height // 14)
    font = _font(size)
    gutter, gap, margin = 2, max(12, thumb_height // 7), max(16, thumb_height // 8)
    page_width = max((image.width for image in thumbs.values()), default=1)
    cell = (2 * page_width + gutter, thumb_height + 2 * size)
    # Columns for a sheet about as wide as it is high.
    columns = max(1, math.ceil((len(layout) * (cell[1] + gap) / (cell[0] + gap)) ** 0.5))
    rows = -(-len(layout) // columns)
    header = 3 * size
    canvas = Image.new("RGB", (2 * margin + columns * cell[0] + (columns - 1) * gap,
                               margin + header + rows * (cell[1] + gap) - gap + margin),
                       BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((margin, margin), title, fill=INK, font=_font(round(size * 1.3)))
    frame = max(3, thumb_height // 40)
    for number, pair in enumerate(layout):
        row, column = divmod(number, columns)
        spine = margin + column * (cell[0] + gap) + page_width
        top = margin + header + row * (cell[1] + gap)
        for index, side in zip(pair, ("left", "right")):
            if index is None:
                continue
            image = thumbs[index]
            x = spine - image.width if side == "left" else spine + gutter
            canvas.paste(image, (x, top))
            marked = index in changed
            if marked:
                draw.rectangle((x, top, x + image.width - 1, top + image.height - 1),
                               outline=MARK, width=frame)
            _label(draw, x + image.width / 2, top + thumb_height + size // 3, labels[index],
                   font, size, marked)
    return canvas

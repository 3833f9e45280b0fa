"""What the press needs beyond the laid-out pages: crop and registration marks in a slug,
pages padded to the binding, printer spreads for saddle stitch. pikepdf (qpdf) only.

WeasyPrint 70's own `marks: crop cross` draws inside the bleed, in RGB black and at half the
bleed's length; here the marks sit outside the bleed, in registration colour (every ink:
Separation /All) as hairlines, on a MediaBox enlarged by the slug.
"""

import io
from contextlib import contextmanager

import pikepdf

from . import metadata
from .units import to_mm

MM = 72 / 25.4
HAIRLINE = 0.25  # pt


def to_pt(length):
    return to_mm(length) * MM


def pages_to_add(page_count, production):
    """Blank pages the binding needs (0 when the count fits)."""
    if production["binding"] == "saddle-stitch":
        return -page_count % 4
    return -page_count % production["signature"]


def binding_rule(production):
    if production["binding"] == "saddle-stitch":
        return "a multiple of 4 (saddle stitch)"
    return f"a multiple of {production['signature']} (perfect binding: whole signatures)"


def pad(pdf, count, at):
    """Insert `count` blank pages (no folio, no content) before page `at`, with its boxes."""
    model = pdf.pages[min(at, len(pdf.pages) - 1)]
    for _ in range(count):
        pdf.pages.insert(at, pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, Resources=pikepdf.Dictionary(),
            MediaBox=_box(model.mediabox), CropBox=_box(model.cropbox),
            BleedBox=_box(model.bleedbox), TrimBox=_box(model.trimbox))))


def _box(box):
    return pikepdf.Array([float(value) for value in box])


def without_links(pdf):
    """A press file has no links: PDF/X lets no annotation but printer's marks and trap
    networks inside the bleed box (the screen edition keeps them)."""
    for page in pdf.pages:
        if "/Annots" in page.obj:
            del page.obj.Annots


def trim_to_page(pdf):
    """The screen edition shows the trimmed page: no bleed around it."""
    for page in pdf.pages:
        trim = _box(page.trimbox)
        page.obj.MediaBox, page.obj.CropBox, page.obj.BleedBox = trim, _box(trim), _box(trim)


def registration_colour():
    """Separation /All: a stroke in this colour prints on every plate."""
    tint = pikepdf.Dictionary(FunctionType=2, Domain=pikepdf.Array([0.0, 1.0]),
                              C0=pikepdf.Array([0.0] * 4), C1=pikepdf.Array([1.0] * 4), N=1.0)
    return pikepdf.Array([pikepdf.Name.Separation, pikepdf.Name.All,
                          pikepdf.Name.DeviceCMYK, tint])


def marks_operations(trim, offset, length):
    """PDF drawing operators for crop marks at the four corners and registration targets at
    the middle of each side, all outside `offset` from the trim."""
    x0, y0, x1, y1 = (float(v) for v in trim)
    ops = [f"q /Registration CS 1 SCN {HAIRLINE} w 0 J"]
    for x, dx in ((x0, -1), (x1, 1)):
        for y, dy in ((y0, -1), (y1, 1)):
            ops.append(f"{x + dx * offset:.3f} {y:.3f} m {x + dx * (offset + length):.3f} {y:.3f} l S")
            ops.append(f"{x:.3f} {y + dy * offset:.3f} m {x:.3f} {y + dy * (offset + length):.3f} l S")
    radius = length / 3
    middle = offset + length / 2
    centres = [((x0 + x1) / 2, y0 - middle), ((x0 + x1) / 2, y1 + middle),
               (x0 - middle, (y0 + y1) / 2), (x1 + middle, (y0 + y1) / 2)]
    for cx, cy in centres:
        ops.append(_circle(cx, cy, radius))
        ops.append(f"{cx - length / 2:.3f} {cy:.3f} m {cx + length / 2:.3f} {cy:.3f} l S")
        ops.append(f"{cx:.3f} {cy - length / 2:.3f} m {cx:.3f} {cy + length / 2:.3f} l S")
    ops.append("Q")
    return "\n".join(ops)


def fold_marks(trim, offset, length, folds):
    """Dashed fold marks at `folds` (pt from the trim's left edge), outside `offset` above and
    below the trim, in registration colour."""
    if not folds:
        return ""
    x0, y0, _, y1 = (float(v) for v in trim)
    ops = [f"\nq /Registration CS 1 SCN {HAIRLINE} w [2 2] 0 d"]
    for fold in folds:
        x = x0 + fold
        ops.append(f"{x:.3f} {y1 + offset:.3f} m {x:.3f} {y1 + offset + length:.3f} l S")
        ops.append(f"{x:.3f} {y0 - offset:.3f} m {x:.3f} {y0 - offset - length:.3f} l S")
    ops.append("Q")
    return "\n".join(ops)


def _circle(cx, cy, r):
    k = 0.5523 * r
    return (f"{cx + r:.3f} {cy:.3f} m "
            f"{cx + r:.3f} {cy + k:.3f} {cx + k:.3f} {cy + r:.3f} {cx:.3f} {cy + r:.3f} c "
            f"{cx - k:.3f} {cy + r:.3f} {cx - r:.3f} {cy + k:.3f} {cx - r:.3f} {cy:.3f} c "
            f"{cx - r:.3f} {cy - k:.3f} {cx - k:.3f} {cy - r:.3f} {cx:.3f} {cy - r:.3f} c "
            f"{cx + k:.3f} {cy - r:.3f} {cx + r:.3f} {cy - k:.3f} {cx + r:.3f} {cy:.3f} c S")


def spine_folds(book, pages):
    """Where a cover spread folds, from its trim's left edge (pt): either side of the spine."""
    back = to_pt(book.design["trim_width"])
    return [back, back + pages / 2 * to_pt(book.production["caliper"])]


def add_marks(pdf, production, folds=()):
    """Enlarge every page by the slug and draw the marks in it; `folds` (pt from the trim's
    left edge) get fold marks too, above and below the sheet like the crop marks — never
    inside the trim, where they would print.

    The page's own drawing is wrapped in q … Q and the marks follow as one more content
    stream, shared by every page of the same trim: nothing is parsed or rewritten, so marking
    a hundred pages takes milliseconds."""
    offset, length = to_pt(production["marks_offset"]), to_pt(production["marks_length"])
    slug = offset + length + 2 * MM
    colour = pdf.make_indirect(registration_colour())
    save = pdf.make_stream(b"q\n")
    marks_by_trim = {}
    for page in pdf.pages:
        trim = [float(value) for value in page.trimbox]
        bleed = [float(value) for value in page.bleedbox]
        if offset < trim[0] - bleed[0] - 0.01:
            raise ValueError("crop marks would start inside the bleed: raise marks_offset")
        key = tuple(round(value, 3) for value in trim)
        if key not in marks_by_trim:
            operations = (marks_operations(trim, offset, length)
                          + fold_marks(trim, offset, length, folds)).encode("ascii")
            marks_by_trim[key] = pdf.make_stream(b"Q\n" + operations)
        page.obj.Contents = pikepdf.Array([save, *metadata.content_streams(page),
                                           marks_by_trim[key]])
        if "/Resources" not in page.obj:
            page.obj.Resources = pikepdf.Dictionary()
        if "/ColorSpace" not in page.obj.Resources:
            page.obj.Resources.ColorSpace = pikepdf.Dictionary()
        page.obj.Resources.ColorSpace.Registration = colour
        media = pikepdf.Array([trim[0] - slug, trim[1] - slug, trim[2] + slug, trim[3] + slug])
        page.obj.MediaBox, page.obj.CropBox = media, _box(media)


def printer_spreads(page_count):
    """Saddle-stitch pairs (left, right), 0-based: the last page beside the first, and so on."""
    pairs = []
    for k in range(page_count // 2):
        outer, inner = page_count - 1 - k, k
        pairs.append((outer, inner) if k % 2 == 0 else (inner, outer))
    return pairs


@contextmanager
def imposed(pdf):
    """Printer spreads two-up on sheets of twice the trim width, each page clipped to its trim
    (a pikepdf.Pdf, open while the caller adds the metadata and saves it at the edition's
    PDF version, the second value: qpdf copies the pages' data from `pdf` then). A PDF/X-4
    file like the edition it comes from: its output intents, and each sheet's TrimBox and
    BleedBox (the sheet).

    Each page becomes a form XObject (its drawing, its resources, its trim as the clip) that
    the sheet places with one `Do`: no content stream is parsed, and the resources the pages
    share (fonts, photos) are copied into the sheets' file once."""
    with pikepdf.open(io.BytesIO(pdf)) as source, pikepdf.new() as sheets:
        _impose(source, sheets)
        yield sheets, source.pdf_version


def _impose(source, sheets):
    pages = list(source.pages)
    if len(pages) % 4:
        raise ValueError(f"{len(pages)} pages cannot be saddle-stitched: pad to fours")
    intents = source.Root.get("/OutputIntents")
    if intents is not None:
        sheets.Root.OutputIntents = sheets.copy_foreign(source.make_indirect(intents))
    first = pages[0].trimbox
    width, height = float(first[2]) - float(first[0]), float(first[3]) - float(first[1])
    for left, right in printer_spreads(len(pages)):
        forms, drawing = pikepdf.Dictionary(), []
        for slot, index in enumerate((left, right)):
            trim = [float(value) for value in pages[index].trimbox]
            name = f"/P{index + 1}"
            forms[name] = sheets.copy_foreign(_page_form(source, pages[index], trim))
            drawing.append(f"q 1 0 0 1 {slot * width - trim[0]:.3f} {-trim[1]:.3f} cm "
                           f"{name} Do Q")
        box = pikepdf.Array([0, 0, 2 * width, height])
        sheets.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=box, TrimBox=box, BleedBox=box,
            Resources=pikepdf.Dictionary(XObject=forms),
            Contents=sheets.make_stream("\n".join(drawing).encode("ascii")))))


def _page_form(source, page, trim):
    """One page of `source` as a form XObject of it, clipped to its trim."""
    form = source.make_stream(metadata.drawing(page))
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = pikepdf.Array(trim)
    form.Resources = page.obj.get("/Resources", pikepdf.Dictionary())
    if "/Group" in page.obj:
        form.Group = page.obj.Group
    return form

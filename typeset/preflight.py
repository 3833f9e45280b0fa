"""Stage 4 — preflight: what the layout says before anything is published.

Each finding names where it is (folio, content file:line) and what to do. With `strict`,
errors stop the build before the PDFs are written, so the last good PDFs stay in place.
`outputs()` runs each written output's checks (editions.py, checks.py).
"""

import math
from pathlib import Path

import pikepdf
from PIL import Image

from . import checks, documents, kinds, press
from .editions import outputs as all_outputs
from .model import Finding


def preflight(book, rendered):
    """Stage 4: the folio plan and the binding against the layout; photos missing, below the
    print resolution or in an unusual colour mode, and files no content uses; text past its
    page area; headings stranded at a page foot; lone last characters; WeasyPrint's warnings;
    the editor's queries."""
    return [*folio_plan(book, rendered.manifest), *binding(book, rendered.manifest),
            *missing_images(book, rendered), *low_resolution(book, rendered),
            *crops(book, rendered),
            *colour_modes(book), *unused_images(book), *overflow(rendered), *one_page(rendered),
            *underfull(book, rendered),
            *inscriptions(rendered),
            *stranded_headings(rendered), *widows_and_orphans(rendered),
            *lone_last_characters(rendered), *unnamed_photos(book),
            *layout_warnings(rendered.warnings), *queries(book)]


def _where(manifest, page, source=None):
    folio = manifest.folio(page)
    place = f"folio {folio:02d}" if folio else f"page {page + 1}"
    return f"{place} ({source})" if source else place


def overflow(rendered):
    """Content that runs past the page area (into the margins or off the page); a
    full-bleed photo does so on purpose."""
    return [Finding("error", "overflow", _where(rendered.manifest, index, source),
                    f"content runs {amount * 25.4 / 96:.1f} mm past the page area at the "
                    f"{side} — shorten the text, allow it to break (long words, URLs) or make "
                    "its box larger")
            for index, page in enumerate(rendered.pages)
            for source, side, amount in page.overflows]


def underfull(book, rendered):
    """Pages whose content stops short: ending above `fill_min` % of the type area, when the
    page is not the last of its chapter or section (the next page opens another one, or only
    pages of their own — a divider, a closing line — come before that) and is
    not full by design (a full-bleed photo, an inscription). A blank page is the binding's or
    a recto opening's, and is not named here."""
    least = book.production["fill_min"] / 100
    manifest, pages = rendered.manifest, rendered.pages
    openings = {entry.page for entry in manifest.entries}
    findings = []
    for index, page in enumerate(pages):
        if manifest.folio(index) is None or page.filled is None or page.designed_full:
            continue
        # The next page with flowing content, past pages of their own (a divider, a closing
        # line, a plate): if it opens another chapter or section, this page is its last.
        after = index + 1
        while after < len(pages) and pages[after].designed_full:
            after += 1
        last = (after >= len(pages) or after in openings or pages[after].filled is None
                or after == manifest.colophon)
        if last or page.filled >= least:
            continue
        findings.append(Finding(
            "warning", "underfull", _where(manifest, index, page.last_source),
            f"the page's content ends at {page.filled:.0%} of the type area (fill_min "
            f"{least:.0%}) and the next page goes on — let a photo on it grow (size, shape), "
            "bring a block up from the next page, or move a page break"))
    return findings


def one_page(rendered):
    """The cover, the title page and the colophon each fit one page."""
    found = {}
    for index, page in enumerate(rendered.pages):
        for name, source in page.singles:
            found.setdefault((name, source), []).append(index)
    return [Finding("error", "overflow", _where(rendered.manifest, pages[0], source),
                    f"the {name.replace('-', ' ')} runs onto {len(pages)} pages — shorten its "
                    "text or lower its type sizes: it must fit one page")
            for (name, source), pages in found.items() if len(pages) > 1]


def inscriptions(rendered):
    """Vertical inscriptions (題辭) as they are read: columns from the right, so a spread from
    its right-hand page. One that goes on from a left-hand page to the right-hand page beside
    it is read the wrong way round; a signature (role and name: one line of columns, never
    split) that does not fit its column runs outside the type area."""
    pages, findings = {}, []
    for index, page in enumerate(rendered.pages):
        for piece in page.inscriptions:
            pages.setdefault(piece.key, (piece.source, []))[1].append(index)
            for part, side, amount in piece.outside:
                what = ("the signature (role and name) is taller than a column: break the role "
                        "into lines (a newline in `role`: each line is a column) or shorten it"
                        if side in ("foot", "head") and part == "signature" else
                        "the signature (role and name) is wider than its column: give the role "
                        "fewer lines" if part == "signature" else
                        "a character is larger than the type area: set the inscription smaller")
                findings.append(Finding(
                    "error", "inscription", _where(rendered.manifest, index, piece.source),
                    f"the inscription runs {amount * 25.4 / 96:.1f} mm past the type area at "
                    f"the {side} — {what}"))
    for source, indexes in pages.values():
        # Page 1 is a right-hand page: a left-hand page has an odd index.
        facing = [index for index in indexes if index % 2 and index + 1 in indexes]
        if not facing:
            continue
        where = _where(rendered.manifest, facing[0], source)
        if len(indexes) == 2:
            findings.append(Finding(
                "error", "inscription", where,
                "the inscription goes on from this left-hand page to the right-hand page beside "
                "it: vertical text is read from the right, so its end would be read first — "
                "start it on a right-hand page (`pagebreak: right` before it) so that it goes "
                "on overleaf, or shorten it to one page"))
        else:
            findings.append(Finding(
                "error", "inscription", where,
                f"the inscription runs over {len(indexes)} pages, so it goes on from a "
                "left-hand page to the right-hand page beside it, which is read first (vertical "
                "text is read from the right) — shorten it to two pages and start it on a "
                "right-hand page (`pagebreak: right` before it), or set it smaller in the "
                "book's own styles (`.inscription { --inscription-size: 28pt; }`)"))
    return findings


def stranded_headings(rendered, room_mm=12):
    """A heading with (almost) nothing under it at the foot of a page."""
    return [Finding("warning", "stranded-heading", _where(rendered.manifest, index, source),
                    "a heading stands at the foot of the page — move it to the next page "
                    "(a page break before it) or let the text above run shorter")
            for index, page in enumerate(rendered.pages)
            for source, room in page.headings if room < room_mm * 96 / 25.4]


def _paragraph_pieces(rendered):
    """(page index, piece) for each piece of a horizontal paragraph on each page."""
    for index, page in enumerate(rendered.pages):
        for piece in page.paragraphs:
            yield index, piece


def widows_and_orphans(rendered, least=2):
    """Paragraphs split across pages with fewer than `least` lines at the foot of the first
    page (an orphan) or at the head of the next (a widow). The stylesheets ask for two;
    a float or a fixed-height box beside the text can still leave one."""
    parts = {}  # paragraph → [(page index, source, lines on that page)]
    for index, piece in _paragraph_pieces(rendered):
        parts.setdefault(piece.key, []).append((index, piece.source, piece.lines))
    findings = []
    for pieces in parts.values():
        if len(pieces) < 2:
            continue
        (first, source, head), (last, _, tail) = pieces[0], pieces[-1]
        if head < least:
            findings.append(Finding(
                "warning", "orphan", _where(rendered.manifest, first, source),
                f"a paragraph leaves {head} line at the foot of the page and goes on overleaf "
                "— let the page run a line shorter or longer (photo size, a page break)"))
        if tail < least:
            findings.append(Finding(
                "warning", "widow", _where(rendered.manifest, last, source),
                f"a paragraph ends with {tail} line at the head of the page — let the page "
                "before run a line longer or shorter (photo size, a page break)"))
    return findings


def lone_last_characters(rendered):
    """Justified paragraphs whose last line holds a single Han character."""
    from .typography import CLOSING, GLUE_TO_PREVIOUS, STOPS, is_han
    findings = []
    for index, piece in _paragraph_pieces(rendered):
        if piece.lines < 2 or piece.continues:
            continue
        letters = piece.last_line.strip().rstrip(STOPS + CLOSING + GLUE_TO_PREVIOUS + "…")
        if len(letters) == 1 and is_han(letters):
            findings.append(Finding(
                "warning", "lone-character", _where(rendered.manifest, index, piece.source),
                f"the paragraph ends with `{piece.last_line.strip()}` alone on its last line "
                "— rewrite a few characters or check the text markup"))
    return findings


def colour_modes(book):
    """Photos in a colour mode the press should hear about: a CMYK JPEG goes to the press as
    it is (separated for another press, maybe); a 16-bit PNG is printed at 8 bits."""
    findings = []
    for path, source in sorted(_image_sources(book).items()):
        file = book.images.joinpath(*path.split("/")[1:])
        if not file.is_file() or file.suffix.lower() == ".svg":
            continue
        with Image.open(file) as image:
            mode, kind = image.mode, image.format
        with file.open("rb") as header:
            sixteen = kind == "PNG" and header.read(25)[24:] == b"\x10"  # IHDR's bit depth
        if mode == "CMYK":
            findings.append(Finding(
                "warning", "colour-mode", f"{path} ({source})",
                f"a CMYK {kind}: it goes to the press as it was separated — confirm with the "
                "printer that its separation suits this press, or supply the RGB original"))
        elif sixteen:
            findings.append(Finding(
                "info", "colour-mode", f"{path} ({source})",
                f"a 16-bit {kind}: printed at 8 bits per channel — nothing to do, unless the "
                "photographer has an 8-bit file with a profile"))
    return findings


def _image_sources(book):
    """Each image path → the content file:line of its first use."""
    where = {}
    for block in book.blocks():
        for path in kinds.images_of(block):
            where.setdefault(path, f"{block.file.name}:{block.line}")
    return where


def unnamed_photos(book):
    """Galleries with photos that have no caption, no `alt` and no caption of the grid, and
    dividers with no `alt`: the screen edition can only read each as 「<section>：照片」
    (labels.yaml `photo`)."""
    findings = []
    for block in book.blocks():
        if block.kind == "divider":
            unnamed = [] if block.fields.get("alt") else [block.fields["image"]]
        elif block.kind != "gallery" or block.fields.get("caption"):
            continue
        else:
            unnamed = [photo["image"] for photo in block.fields["photos"]
                       if not (photo.get("alt") or photo.get("caption"))]
        if unnamed:
            findings.append(Finding(
                "info", "no-alt", f"{block.file.name}:{block.line}",
                f"{len(unnamed)} photo{'s' if len(unnamed) > 1 else ''} with no caption "
                f"({unnamed[0].rsplit('/', 1)[-1]}{' …' if len(unnamed) > 1 else ''}): screen "
                f"readers hear only `…{book.labels['separator']}{book.labels['photo']}` — give "
                f"each an `alt:` (what it shows)"))
    return findings


def unused_images(book):
    """Files under images/ that no content uses: a photo that was never placed."""
    used = {book.images.joinpath(*path.split("/")[1:]).resolve()
            for path in kinds.image_paths(book)}
    return [Finding("warning", "unused-image", f"images/{file.relative_to(book.images)}",
                    "no content uses this file — place it or remove it")
            for file in sorted(book.images.rglob("*"))
            if file.is_file() and not file.name.startswith(".") and file.resolve() not in used]


def queries(book):
    """The editor's open questions about the source text (catalogue/queries.yaml)."""
    return [Finding("info", "query", f"{entry['file'] or '?'}: {entry['where'] or ''}",
                    f"{entry['what']} — {entry['suggestion'] or ''}")
            for entry in book.queries]


def binding(book, manifest):
    """The page count must fit the binding; --pad adds the blank pages it needs. A
    perfect-bound spine too narrow for its title is named."""
    pages = manifest.page_count + manifest.padding
    findings = []
    if book.production["binding"] == "perfect" and not documents.has_spine_text(book, pages):
        findings.append(Finding(
            "warning", "spine", "book.yaml",
            f"the spine is {documents.spine_width_mm(book, pages):.1f} mm, narrower than "
            f"spine_text_min ({book.production['spine_text_min']}): it carries no title — "
            "fine for a thin book; or use a thicker paper (caliper) or lower spine_text_min"))
    missing = press.pages_to_add(pages, book.production)
    if not missing:
        return findings
    rule = press.binding_rule(book.production)
    remove = manifest.page_count % (4 if book.production["binding"] == "saddle-stitch"
                                    else book.production["signature"])
    return findings + [Finding(
        "error", "binding", "book.yaml",
        f"{manifest.page_count} pages: the count must be {rule} — add {missing} "
        f"page{'s' if missing > 1 else ''} (build with --pad for blank pages before the "
        f"colophon) or remove {remove}")]


def low_resolution(book, rendered):
    """Photos whose pixels at their drawn size fall below the print resolution token."""
    wanted = book.production["print_dpi"]
    findings = []
    for index, page in enumerate(rendered.pages):
        for photo in page.photos:
            dpi = photo.pixels[0] / photo.inches if photo.inches else math.inf
            if dpi < wanted:
                findings.append(Finding(
                    "warning", "low-resolution",
                    _where(rendered.manifest, index, photo.source),
                    f"{_shown(book, photo.file)} is {dpi:.0f} dpi at its placed size "
                    f"({photo.pixels[0]}×{photo.pixels[1]} px over {photo.inches * 25.4:.0f} "
                    f"mm), below {wanted} dpi — supply a larger file, or give it a smaller "
                    "size"))
    return findings


# The slot shapes by width ÷ height (kinds.SHAPES; page and bleed take the page's).
SHAPE_RATIOS = {"panorama": 3, "wide": 16 / 9, "landscape": 3 / 2, "square": 1, "tall": 3 / 4,
                "portrait": 2 / 3}


def crops(book, rendered, least=2 / 3):
    """A slot that crops away more than a third of its photo's width or height: the editor
    chooses a shape that keeps it, `fit: contain`, or a `focus`."""
    findings = []
    for index, page in enumerate(rendered.pages):
        for photo in page.photos:
            x0, y0, x1, y1 = photo.window
            shown = min(x1 - x0, y1 - y0)
            if shown >= least:
                continue
            ratio = photo.pixels[0] / photo.pixels[1]
            shape = min(SHAPE_RATIOS, key=lambda name: abs(math.log(SHAPE_RATIOS[name] / ratio)))
            axis = "width" if x1 - x0 < y1 - y0 else "height"
            findings.append(Finding(
                "warning", "crop", _where(rendered.manifest, index, photo.source),
                f"the slot shows {shown:.0%} of the {axis} of {_shown(book, photo.file)} — "
                f"give it shape: {shape} (the photo's proportion), fit: contain, or a focus "
                "that keeps what matters"))
    return findings


def _shown(book, file):
    """A photo's file as the content names it: images/…"""
    path = Path(file)
    return f"images/{path.relative_to(book.images)}" if path.is_relative_to(book.images) \
        else path.name


SIDES = {"right": 1, "left": 0}  # the folio's remainder by 2 on that side (folio 01 is a recto)


def folio_plan(book, manifest):
    """Each chapter and section must start on the folio book.yaml plans for it. A chapter
    opens on a recto (an odd folio), a section on the side `section_side` says: a plan on the
    other side cannot hold, and a chapter that moves moves by whole spreads."""
    findings = []
    items = {item.id: item for chapter in book.chapters for item in (chapter, *chapter.sections)}
    for entry in manifest.entries:
        if entry.planned_folio is None or entry.folio == entry.planned_folio:
            continue
        item = items[entry.id]
        plan, line = item.plan
        where = f"{plan.name}:{line}"
        side = "right" if entry.level == 1 else book.design["section_side"]
        planned, landed = entry.planned_folio, entry.folio
        if side in SIDES and planned % 2 != SIDES[side]:
            near = (planned - 1, planned + 1)
            findings.append(Finding(
                "error", "folio-plan", where,
                f"{entry.title} ({item.file.name}) is planned on folio {planned:02d}, a "
                f"{'verso' if planned % 2 == 0 else 'recto'}, but it opens on a "
                f"{'recto' if side == 'right' else 'verso'} — plan {near[0]:02d} or "
                f"{near[1]:02d} (it lands on {landed:02d} now)"))
            continue
        pages = abs(landed - planned)
        step = 1 if side == "any" else 2
        if landed > planned:
            what = (f"the pages before it run over — shorten them by {pages - step + 1}"
                    f"{f' to {pages}' if step > 1 else ''} pages (photo sizes, grids, page "
                    f"breaks), or plan it on {landed:02d}")
        else:
            what = (f"the pages before it fall short — lengthen them by "
                    f"{pages - step + 1}{f' to {pages}' if step > 1 else ''} pages, or plan "
                    f"it on {landed:02d}")
        findings.append(Finding(
            "error", "folio-plan", where,
            f"{entry.title} ({item.file.name}) starts on folio {landed:02d}, planned "
            f"{planned:02d}: {what}"))
    return findings


def missing_images(book, rendered):
    where = _image_sources(book)
    pages = {}
    for index, page in enumerate(rendered.pages):
        for path in page.slots:
            pages.setdefault(path, index)
    return [Finding("warning", "missing-image",
                    _where(rendered.manifest, pages[path], where.get(path))
                    if path in pages else where.get(path, "?"),
                    f"{path} has not arrived: a placeholder is printed — add the file")
            for path in rendered.manifest.missing_images]


def layout_warnings(messages):
    return [Finding("error", "weasyprint", "layout", message) for message in messages]


def outputs(book, paths, cache=None):
    """Each written output's checks (editions.py); the ISBN, once. With `cache` (a folder),
    what the ink check read is kept there for the next process."""
    checked = all_outputs()
    findings = []
    if cache is not None:
        checks.recall(Path(cache) / "ink.json")
    for name, path in paths.items():
        with pikepdf.open(path) as pdf:
            for check in checked[name].checks:
                findings += check(book, path, pdf)
    if cache is not None:
        checks.remember(Path(cache) / "ink.json")
    if book.isbn is None:
        findings.append(Finding("warning", "isbn", "book.yaml",
                                "no ISBN yet — set it with make isbn ISBN=…"))
    return findings


def failures(findings, strict):
    """The findings that stop the build: errors, in strict mode."""
    return [f for f in findings if f.level == "error"] if strict else []

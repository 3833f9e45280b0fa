"""Stage 4 — preflight: what the layout says before anything is published.

Each finding names where it is (folio, file:line) and what to do. With `strict`, errors stop
the build before the PDFs are written, so the last good PDFs stay in place.
"""

from dataclasses import dataclass

from . import images, press


@dataclass(frozen=True)
class Finding:
    level: str      # "error" or "warning"
    kind: str       # folio-plan, missing-image, weasyprint
    where: str
    message: str

    def __str__(self):
        return f"{self.level}: {self.where}: {self.message}"


def preflight(book, rendered):
    """Stage 4: the folio plan and the binding against the layout, photos missing or below the
    print resolution, WeasyPrint's warnings."""
    return [*folio_plan(book, rendered.manifest), *binding(book, rendered.manifest),
            *missing_images(book, rendered.manifest), *low_resolution(book, rendered),
            *layout_warnings(rendered.warnings)]


def binding(book, manifest):
    """The page count must fit the binding; --pad adds the blank pages it needs."""
    missing = press.pages_to_add(manifest.page_count + manifest.padding, book.production)
    if not missing:
        return []
    rule = press.binding_rule(book.production)
    remove = (manifest.page_count % 4) if book.production["binding"] == "saddle-stitch" else 1
    return [Finding("error", "binding", "book.yaml",
                    f"{manifest.page_count} pages: the count must be {rule} — add {missing} "
                    f"page{'s' if missing > 1 else ''} (build with --pad for blank pages before the "
                    f"colophon) or remove {remove}")]


def low_resolution(book, rendered):
    """Photos whose pixels at their placed size fall below the print resolution token."""
    wanted = book.production["print_dpi"]
    findings = []
    for page, path, pixels, inches in images.placed(rendered.document):
        dpi = images.effective_dpi(pixels, inches)
        if dpi < wanted:
            folio = rendered.manifest.folio(page)
            findings.append(Finding(
                "warning", "low-resolution", f"folio {folio:02d}" if folio else f"page {page + 1}",
                f"{path.name} is {dpi:.0f} dpi at its placed size ({pixels[0]}×{pixels[1]} px "
                f"over {inches * 25.4:.0f} mm), below {wanted} dpi — supply a larger file"))
    return findings


def folio_plan(book, manifest):
    """Each chapter and section must start on the folio book.yaml plans for it."""
    findings = []
    items = {item.id: item for chapter in book.chapters for item in (chapter, *chapter.sections)}
    for entry in manifest.entries:
        if entry.planned_folio is None or entry.folio == entry.planned_folio:
            continue
        item = items[entry.id]
        difference = entry.folio - entry.planned_folio
        direction = "over" if difference > 0 else "under"
        findings.append(Finding(
            "error", "folio-plan", f"{item.file.name}:{item.line}",
            f"{entry.title} starts on folio {entry.folio:02d}, planned {entry.planned_folio:02d}: "
            f"the pages before it run {abs(difference)} page{'s' if abs(difference) > 1 else ''} "
            f"{direction} — {'shorten' if difference > 0 else 'lengthen'} them (photo sizes, "
            f"grids, page breaks) or change the plan in book.yaml"))
    return findings


def missing_images(book, manifest):
    where = {}
    for block in book.blocks():
        for path in _paths(block.fields):
            where.setdefault(path, f"{block.file.name}:{block.line}")
    return [Finding("warning", "missing-image", where.get(path, "?"),
                    f"{path} has not arrived: a placeholder is printed — add the file")
            for path in manifest.missing_images]


def _paths(fields):
    from .content import _images_of
    return _images_of(fields)


def layout_warnings(messages):
    return [Finding("error", "weasyprint", "layout", message) for message in messages]


def failures(findings, strict):
    """The findings that stop the build: errors, in strict mode."""
    return [f for f in findings if f.level == "error"] if strict else []

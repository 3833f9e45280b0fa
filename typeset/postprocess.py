"""Stage 5 — postprocess: write each edition's PDF and finish it with pypdf.

The outline (chapter → section) and the page labels come from the content and the layout
manifest, so the viewer's page box shows the printed folio ("01") and the bookmarks open the
pages the contents page prints. Every edition is written to a temporary file first and renamed
only when all editions are ready: a failed build leaves the last good PDFs in place.
"""

import io
import os
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

EDITIONS = ("print", "screen")


def postprocess(book, rendered, out_dir):
    """Stage 5: write build/<slug>-print.pdf and build/<slug>-screen.pdf; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = rendered.document.write_pdf()
    finished = {edition: finish(pdf, book, rendered.manifest, edition) for edition in EDITIONS}
    return publish(finished, out_dir, book.slug)


def finish(pdf, book, manifest, edition):
    """One edition's bytes: the laid-out PDF with outline, page labels and metadata."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    if edition == "screen":
        trim_to_page(writer)
    add_page_labels(writer, manifest)
    add_outline(writer, manifest)
    add_metadata(writer, book)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def trim_to_page(writer):
    """The screen edition shows the trimmed page: no bleed around it."""
    for page in writer.pages:
        trim = page.trimbox
        page.mediabox = trim
        page.cropbox = trim
        page.bleedbox = trim


def page_labels(manifest):
    """The label ranges: (first page, style, prefix, start). Front matter is roman; folios
    below ten get a leading zero, as printed ("01")."""
    ranges = []
    if manifest.front_pages:
        ranges.append((0, "/r", None, 1))
    first = manifest.front_pages
    if manifest.page_count > first:
        ranges.append((first, "/D", "0", 1))
    if manifest.page_count > first + 9:
        ranges.append((first + 9, "/D", None, 10))
    return ranges


def add_page_labels(writer, manifest):
    ranges = page_labels(manifest)
    for i, (start_page, style, prefix, start) in enumerate(ranges):
        end_page = ranges[i + 1][0] - 1 if i + 1 < len(ranges) else manifest.page_count - 1
        writer.set_page_label(start_page, end_page, style=style, prefix=prefix, start=start)


def add_outline(writer, manifest):
    """Bookmarks in two levels, in reading order, each opening its entry's first page."""
    parent = None
    for entry in manifest.entries:
        if entry.level == 1:
            parent = writer.add_outline_item(title=entry.title, page_number=entry.page)
        else:
            writer.add_outline_item(title=entry.title, page_number=entry.page, parent=parent)


def add_metadata(writer, book):
    writer.add_metadata({
        "/Title": f"{book.title}——{book.subtitle}" if book.subtitle else book.title,
        "/Subject": book.subtitle,
        "/Author": "、".join(book.organisers),
        "/Creator": "typeset (WeasyPrint, pypdf)",
    })
    writer._root_object[NameObject("/Lang")] = TextStringObject(book.language)
    writer.page_mode = "/UseOutlines"


def publish(finished, out_dir, slug):
    """Write every edition to a temporary file, then rename them all into place."""
    temporary = {}
    try:
        for edition, data in finished.items():
            handle, name = tempfile.mkstemp(prefix=f".{slug}-{edition}.", suffix=".pdf.tmp",
                                            dir=out_dir)
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            temporary[edition] = Path(name)
        paths = {}
        for edition, name in temporary.items():
            paths[edition] = out_dir / f"{slug}-{edition}.pdf"
            os.replace(name, paths[edition])
        return paths
    finally:
        for name in temporary.values():
            name.unlink(missing_ok=True)

"""Stage 5 — postprocess: write each edition's PDF and finish it with pypdf.

A book laid out whole is written by WeasyPrint in each edition's variant; a book laid out by
parts is joined from its parts' PDFs (assemble.py), written here or already by render.

The outline (chapter → section) and the page labels come from the content and the layout
manifest, so the viewer's page box shows the printed folio ("01") and the bookmarks open the
pages the contents page prints. The ISBN and its barcode are stamped onto the colophon here,
from the laid-out PDF kept in build/.cache, so a new ISBN never re-lays out the book. Dates and
the document ID are deterministic (SOURCE_DATE_EPOCH): two builds of the same content are the
same bytes. Every edition is written to a temporary file first and renamed only when all
editions are ready: a failed build leaves the last good PDFs in place.
"""

import datetime
import hashlib
import io
import logging
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import jinja2
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject

from . import assemble, forks, images, lock, press, render, tags
from .errors import BuildError

EDITIONS = render.EDITIONS
OUTPUTS = ("print", "screen", "cover", "imposed")


def postprocess(book, rendered, out_dir):
    """Stage 5: write the print and screen editions, the cover and, for saddle stitch, the
    imposed sheets into `out_dir`; return their paths. The screen edition is written (or
    joined) while the print edition, the cover and the sheets are (forks.run)."""
    out_dir = Path(out_dir)
    if rendered.parts:
        lay_out = joined_from_parts(rendered.parts, out_dir / ".cache" / "fonts")
    else:
        lay_out = lambda name: write_pdf(rendered.document, EDITIONS[name])  # noqa: E731
    laid_out, finished = editions(book, rendered.manifest, out_dir, lay_out)
    paths = publish(finished, out_dir, book.slug)
    save_layout(out_dir, book.slug, laid_out, rendered.manifest)
    return paths


def restamp(book, out_dir):
    """Stamp the current ISBN onto the last build's layout, without laying the book out again."""
    out_dir = Path(out_dir)
    laid_out, manifest = load_layout(out_dir, book.slug)
    _, finished = editions(book, manifest, out_dir, laid_out.__getitem__)
    return publish(finished, out_dir, book.slug)


def editions(book, manifest, out_dir, lay_out):
    """Each edition's laid-out PDF (`lay_out(name)`) and every finished output, in OUTPUTS
    order: the editions stamped and finished at the same time (forks.run), the print one with
    the cover and the imposed sheets made beside it."""
    stamp = render.stamp(book, out_dir / ".cache" / "documents")

    def edition(name):
        def lay_out_and_finish():
            laid_out = lay_out(name)
            finished = {name: finish(laid_out, book, manifest, name, stamp, out_dir)}
            if name == "print":
                finished.update(cover_and_sheets(finished["print"], book, manifest, out_dir))
            return laid_out, finished
        return lay_out_and_finish

    written = forks.run({name: edition(name) for name in EDITIONS})
    made = {name: pdf for _, outputs in written.values() for name, pdf in outputs.items()}
    return ({name: layout for name, (layout, _) in written.items()},
            {name: made[name] for name in OUTPUTS if name in made})


def write_pdf(document, variant):
    """The laid-out document as PDF bytes in one variant. WeasyPrint keeps the fonts a
    write_pdf used for the next one, so the second edition's font subsets would also hold the
    first's glyphs and its bytes would depend on the order: each write starts with none."""
    document.fonts = {}
    return document.write_pdf(pdf_variant=variant)


def joined_from_parts(parts, cache_dir=None):
    """For a book laid out by parts: each part written in each edition unless it was before
    (the editions at the same time, forks.run), the font programs subset for all of them, and
    a function that joins one edition from its parts (assemble)."""
    missing = {name: [index for index, (part, _) in enumerate(parts) if name not in part.pdfs]
               for name in EDITIONS}  # none when the parts were laid out in parallel (render)

    def write_missing(name):
        return lambda: {index: assemble.write(parts[index][0].document, EDITIONS[name],
                                              parts[index][1])
                        for index in missing[name]}

    for name, written in forks.run({name: write_missing(name) for name in EDITIONS
                                    if missing[name]}).items():
        for index, pdf in written.items():
            parts[index][0].pdfs[name] = pdf
    # Both editions draw the same glyphs: the programs are subset once, here, where the
    # print edition's parts were written (forks.run runs the first task in this process).
    first = next(iter(EDITIONS))
    programs = assemble.programs([part.pdfs[first] for part, _ in parts], cache_dir)
    return lambda name: assemble.join([part.pdfs[name] for part, _ in parts], programs)


def cover_and_sheets(print_pdf, book, manifest, out_dir):
    """The cover spread and, for saddle stitch, the imposed sheets of the print edition."""
    pages = manifest.page_count + manifest.padding
    made = {"cover": finish_cover(render.cover(book, pages, out_dir / ".cache" / "documents"),
                                  book)}
    if book.production["binding"] == "saddle-stitch" and pages % 4 == 0:
        imposed = press.impose(print_pdf)
        add_metadata(imposed, book, "imposed")
        made["imposed"] = _bytes(imposed)
    return made


def finish(laid_out, book, manifest, edition, stamp, out_dir):
    """One edition's bytes: the laid-out PDF with ISBN stamp, outline, labels and metadata;
    marks and slug for the press, trimmed pages and screen-sized photos for the screen. The
    screen edition's structure tree waits aside meanwhile (tags.py): pypdf would copy each of
    its thousands of elements."""
    laid_out, structure = tags.detached(laid_out)
    reader = PdfReader(io.BytesIO(laid_out))
    with _quiet_size_check():
        writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # PDF/X-4 needs 1.6, as WeasyPrint wrote it
    if manifest.padding:
        press.pad(writer, manifest.padding, manifest.padding_at)
    if manifest.stamp_page is not None:
        stamp_colophon(writer, manifest.stamp_page, PdfReader(io.BytesIO(stamp)))
    if edition == "print":
        press.add_marks(writer, book.production)
    else:
        trim_to_page(writer)
        images.downsample(writer, book, manifest.placed, out_dir / ".cache" / "screen-images")
        if "/OutputIntents" in writer._root_object:
            del writer._root_object["/OutputIntents"]
    add_page_labels(writer, manifest)
    add_outline(writer, manifest)
    add_metadata(writer, book, edition)
    if structure is None:
        return _bytes(writer)
    return tags.attached(_bytes(writer), structure, manifest.padded)


@contextmanager
def _quiet_size_check():
    """pypdf warns when a clone numbers more objects than the file's trailer /Size: it does
    for a PDF joined by qpdf (assemble), which numbers its objects without gaps; the clone
    is complete all the same (qpdf --check is tested on every output)."""
    logger = logging.getLogger("pypdf._writer")
    quiet = logging.Filter()
    quiet.filter = lambda record: "exceeds defined trailer size" not in record.getMessage()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _bytes(writer):
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def finish_cover(cover, book):
    """The cover as WeasyPrint wrote it, with the book's deterministic metadata."""
    reader = PdfReader(io.BytesIO(cover))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    add_metadata(writer, book, "cover")
    return _bytes(writer)


def stamp_colophon(writer, page_index, stamp):
    """Merge the stamp page of the colophon's side (right pages are even indexes) onto it."""
    side = 0 if page_index % 2 == 0 else 1
    writer.pages[page_index].merge_page(stamp.pages[side])


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
    first, count = manifest.front_pages, manifest.page_count + manifest.padding
    if count > first:
        ranges.append((first, "/D", "0", 1))
    if count > first + 9:
        ranges.append((first + 9, "/D", None, 10))
    return ranges


def add_page_labels(writer, manifest):
    ranges = page_labels(manifest)
    for i, (start_page, style, prefix, start) in enumerate(ranges):
        end_page = ranges[i + 1][0] - 1 if i + 1 < len(ranges) else len(writer.pages) - 1
        writer.set_page_label(start_page, end_page, style=style, prefix=prefix, start=start)


def add_outline(writer, manifest):
    """Bookmarks in two levels, in reading order, each opening its entry's first page."""
    parent = None
    for entry in manifest.entries:
        if entry.level == 1:
            parent = writer.add_outline_item(title=entry.title, page_number=entry.page)
        else:
            writer.add_outline_item(title=entry.title, page_number=entry.page, parent=parent)


def build_date():
    """The build's date: SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


def add_metadata(writer, book, edition):
    """Document info and XMP that agree: title, subtitle, organisers, language, ISBN, dates;
    a document ID derived from the pages' ink, not from the clock (WeasyPrint's PDF/X and
    PDF/UA variants stamp the current time into the file, so its bytes cannot be the key)."""
    date = build_date()
    title = f"{book.title}——{book.subtitle}" if book.subtitle else book.title
    info = {
        "/Title": title,
        "/Subject": book.subtitle,
        "/Author": "、".join(book.organisers),
        "/Creator": "typeset (WeasyPrint, pypdf)",
        "/Producer": "typeset (WeasyPrint, pypdf)",
        "/CreationDate": date.strftime("D:%Y%m%d%H%M%SZ"),
        "/ModDate": date.strftime("D:%Y%m%d%H%M%SZ"),
    }
    if book.isbn:
        info["/ISBN"] = book.isbn.hyphenated
    writer.add_metadata(info)
    xmp = _xmp_template().render(book=book, title=title, date=date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 variant=EDITIONS.get(edition, "pdf/x-4"),
                                 producer=info["/Producer"])
    writer.xmp_metadata = xmp.encode("utf-8")
    writer._root_object[NameObject("/Lang")] = TextStringObject(book.language)
    writer.page_mode = "/UseOutlines"
    ink = hashlib.md5(edition.encode() + (book.isbn.digits.encode() if book.isbn else b""))
    for page in writer.pages:
        contents = page.get_contents()
        ink.update(contents.get_data() if contents is not None else b"")
    identity = ink.digest()
    writer._ID = ArrayObject([ByteStringObject(identity), ByteStringObject(identity)])


def _xmp_template():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(render.TEMPLATES), autoescape=True)
    return env.get_template("xmp.xml.j2")


def publish(finished, out_dir, slug):
    """Write every edition to a temporary file, then rename them all into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    temporary = {}
    try:
        for edition, data in finished.items():
            temporary[edition] = _write_temporary(out_dir, f"{slug}-{edition}", data)
        paths = {}
        previous = out_dir / ".cache" / "previous"
        previous.mkdir(parents=True, exist_ok=True)
        with lock.interrupts_held():  # all editions in place, or none
            for edition, name in temporary.items():
                paths[edition] = out_dir / f"{slug}-{edition}.pdf"
                if paths[edition].exists():  # kept for the proofs of what changed
                    os.replace(paths[edition], previous / paths[edition].name)
                os.replace(name, paths[edition])
        return paths
    finally:
        for name in temporary.values():
            name.unlink(missing_ok=True)


def _write_temporary(folder, stem, data):
    handle, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
    with os.fdopen(handle, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.chmod(name, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
    return Path(name)


_UMASK = os.umask(0)
os.umask(_UMASK)


def save_layout(out_dir, slug, laid_out, manifest):
    """Keep the laid-out PDF and its manifest, so the ISBN can be re-stamped without layout."""
    cache = out_dir / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    files = {f"{slug}-{edition}-layout.pdf": data for edition, data in laid_out.items()}
    files[f"{slug}-manifest.json"] = manifest.to_json().encode("utf-8")
    for name, data in files.items():
        os.replace(_write_temporary(cache, name, data), cache / name)


def load_layout(out_dir, slug):
    cache = out_dir / ".cache"
    try:
        laid_out = {edition: (cache / f"{slug}-{edition}-layout.pdf").read_bytes()
                    for edition in EDITIONS}
        manifest = render.Manifest.from_json(
            (cache / f"{slug}-manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"no laid-out book in {cache}: build the book first (make)")
    return laid_out, manifest

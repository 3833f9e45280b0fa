"""What every finished PDF carries besides its pages: page labels equal to the printed folios,
the outline (chapter → section), and document info and XMP that agree — title, subtitle,
organisers, language, ISBN, dates — with a document ID derived from the pages' ink, not from
the clock: two builds of the same content are the same bytes (SOURCE_DATE_EPOCH)."""

import datetime
import functools
import hashlib
import os
import time
import uuid

import jinja2
import pikepdf
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject

from . import TEMPLATES, typography


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


def describe(book, output, variant, drawn):
    """Document info and XMP that agree, for the output `output` (print, screen, cover …)
    written in `variant`; a document ID derived from the pages' ink (`drawn`: the bytes each
    page draws; WeasyPrint's PDF/X and PDF/UA variants stamp the current time into the file,
    so its bytes cannot be the key). Returns (info, XMP bytes, the two halves of the ID)."""
    date = build_date()
    title, subtitle = typography.plain(book.title), typography.plain(book.subtitle)
    if subtitle:
        title += book.labels["title_separator"] + subtitle
    info = {
        "/Title": title,
        "/Subject": subtitle,
        "/Author": book.labels["list_separator"].join(map(typography.plain, book.organisers)),
        "/Creator": "typeset (WeasyPrint, pypdf)",
        "/Producer": "typeset (WeasyPrint, pypdf)",
        "/CreationDate": date.strftime("D:%Y%m%d%H%M%SZ"),
        "/ModDate": date.strftime("D:%Y%m%d%H%M%SZ"),
    }
    if book.isbn:
        info["/ISBN"] = book.isbn.hyphenated
    if variant == "pdf/x-4":
        info["/GTS_PDFXVersion"] = "PDF/X-4"
    ink = hashlib.md5(output.encode() + (book.isbn.digits.encode() if book.isbn else b""))
    for data in drawn:
        ink.update(data)
    # The document's identity is the output of this book (the same from build to build); the
    # instance, what its pages draw (the same for the same content, SOURCE_DATE_EPOCH).
    document = uuid.uuid5(uuid.NAMESPACE_URL, f"typeset:{book.slug}:{output}")
    instance = uuid.UUID(bytes=ink.digest())
    xmp = _xmp_template().render(book=book, title=title, date=date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 variant=variant, producer=info["/Producer"],
                                 document_id=f"uuid:{document}", instance_id=f"uuid:{instance}",
                                 version=date.strftime("%Y%m%d%H%M%S"))
    return info, xmp.encode("utf-8"), (document.bytes, instance.bytes)


def add_metadata(writer, book, output, variant):
    """describe() applied to a pypdf writer (the editions and the cover)."""
    drawn = []
    for page in writer.pages:
        contents = page.get_contents()
        drawn.append(contents.get_data() if contents is not None else b"")
    info, xmp, ids = describe(book, output, variant, drawn)
    writer.add_metadata(info)
    writer._info.get_object()[NameObject("/Trapped")] = NameObject("/False")
    writer.xmp_metadata = xmp
    stream = writer._root_object["/Metadata"].get_object()
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    writer._root_object[NameObject("/Lang")] = TextStringObject(book.language)
    writer.page_mode = "/UseOutlines"
    writer._ID = ArrayObject([ByteStringObject(ids[0]), ByteStringObject(ids[1])])


def set_metadata(pdf, book, output, variant, drawn):
    """describe() applied to a pikepdf.Pdf (the imposed sheets); `drawn` as describe's. qpdf
    writes the ID's first half as set here and derives the second from the saved bytes
    (save with deterministic_id)."""
    info, xmp, ids = describe(book, output, variant, drawn)
    pdf.docinfo = pdf.make_indirect(pikepdf.Dictionary(
        {key: pikepdf.String(value) for key, value in info.items()}))
    pdf.docinfo.Trapped = pikepdf.Name("/False")
    pdf.Root.Metadata = pdf.make_stream(xmp, Type=pikepdf.Name.Metadata,
                                        Subtype=pikepdf.Name.XML)
    pdf.Root.Lang = pikepdf.String(book.language)
    pdf.Root.PageMode = pikepdf.Name.UseOutlines
    pdf.trailer.ID = pikepdf.Array([pikepdf.String(ids[0]), pikepdf.String(ids[1])])


@functools.lru_cache(maxsize=1)
def _xmp_template():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["plain"] = typography.plain
    return env.get_template("xmp.xml.j2")

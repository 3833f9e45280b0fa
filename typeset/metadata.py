"""What every finished PDF carries besides its pages: page labels equal to the printed folios,
the outline (chapter → section), and document info and XMP that agree — title, subtitle,
organisers, language, ISBN, dates — with a document ID derived from the pages' ink, not from
the clock: two builds of the same content are the same bytes (SOURCE_DATE_EPOCH)."""

import datetime
import functools
import hashlib
import io
import os
import time
import uuid

import jinja2
import pikepdf

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


def add_page_labels(pdf, manifest):
    """The label ranges as the catalog's /PageLabels number tree."""
    numbers = []
    for start_page, style, prefix, start in page_labels(manifest):
        label = pikepdf.Dictionary(S=pikepdf.Name(style), St=start)
        if prefix is not None:
            label.P = pikepdf.String(prefix)
        numbers += [start_page, label]
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(numbers))


def add_outline(pdf, manifest):
    """Bookmarks in two levels, in reading order, each opening its entry's first page (a
    GoTo action to the whole page), every level open."""
    tree = []
    for entry in manifest.entries:
        if entry.level == 1 or not tree:
            tree.append((entry, []))
        else:
            tree[-1][1].append((entry, []))
    outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    pages = list(pdf.pages)

    def items(parent, children):
        made = []
        for entry, kids in children:
            item = pdf.make_indirect(pikepdf.Dictionary(
                Title=pikepdf.String(entry.title), Parent=parent,
                A=pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array(
                    [pages[entry.page].obj, pikepdf.Name.Fit]))))
            made.append(item)
            items(item, kids)
        for before, after in zip(made, made[1:]):
            before.Next, after.Prev = after, before
        if made:
            parent.First, parent.Last = made[0], made[-1]
        parent.Count = len(made) + sum(int(item.get("/Count", 0)) for item in made)

    items(outlines, tree)
    pdf.Root.Outlines = outlines


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
        "/Creator": "typeset (WeasyPrint, pikepdf)",
        "/Producer": "typeset (WeasyPrint, pikepdf)",
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


def set_metadata(pdf, book, output, variant, drawn=None):
    """describe() applied to a pikepdf.Pdf; `drawn` as describe's, by default what each page
    draws (its content streams: the imposed sheets give their pages' forms). qpdf
    writes the ID's first half as set here and derives the second from the saved bytes
    (save with deterministic_id)."""
    if drawn is None:
        drawn = [b"".join(stream.read_bytes() for stream in content_streams(page))
                 for page in pdf.pages]
    info, xmp, ids = describe(book, output, variant, drawn)
    pdf.docinfo = pdf.make_indirect(pikepdf.Dictionary(
        {key: pikepdf.String(value) for key, value in info.items()}))
    pdf.docinfo.Trapped = pikepdf.Name("/False")
    pdf.Root.Metadata = pdf.make_stream(xmp, Type=pikepdf.Name.Metadata,
                                        Subtype=pikepdf.Name.XML)
    pdf.Root.Lang = pikepdf.String(book.language)
    pdf.Root.PageMode = pikepdf.Name.UseOutlines
    pdf.trailer.ID = pikepdf.Array([pikepdf.String(ids[0]), pikepdf.String(ids[1])])


def saved(pdf, object_streams=False, version=None):
    """The PDF's bytes (at least PDF `version`), its ID's second half derived from them: the
    same content, the same bytes. `object_streams` for a smaller file (the screen edition;
    a press file keeps its objects plain, as every RIP reads them)."""
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True, min_version=version or "",
             object_stream_mode=pikepdf.ObjectStreamMode.generate if object_streams
             else pikepdf.ObjectStreamMode.disable)
    return buffer.getvalue()


def content_streams(page):
    """A page's content streams, as a list (a page has none, one, or an array of them)."""
    contents = page.obj.get("/Contents")
    if contents is None:
        return []
    return list(contents) if isinstance(contents, pikepdf.Array) else [contents]


def drawing(page):
    """What a page draws: its content streams' data, one after another."""
    return b"\n".join(stream.read_bytes() for stream in content_streams(page))


@functools.lru_cache(maxsize=1)
def _xmp_template():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["plain"] = typography.plain
    return env.get_template("xmp.xml.j2")

"""Stage 5 — postprocess: write each edition (editions.py) and finish it; publish them all.

A book laid out whole is written by WeasyPrint in each edition's variant; a book laid out by
parts is joined from its parts' PDFs (assemble.py), written here or already by render.

The outline (chapter → section) and the page labels come from the content and the layout
manifest (metadata.py), so the viewer's page box shows the printed folio ("01") and the
bookmarks open the pages the contents page prints. The ISBN and its barcode are stamped onto
the colophon here, from the laid-out PDF kept in build/.cache, so a new ISBN never re-lays out
the book. Every output is written to a temporary file first and renamed only when all are
ready: a failed build leaves the last good PDFs in place.
"""

import io
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pikepdf

from . import assemble, colour, documents, embed, engine, files, forks, lock, metadata, press, tags
from .editions import EDITIONS, outputs
from .errors import BuildError
from .model import Manifest


def postprocess(book, rendered, out_dir, session):
    """Stage 5: write every output into `out_dir`; return their paths. The editions are
    written (or joined) and finished at the same time (forks.run), each with its extras."""
    out_dir = Path(out_dir)
    palettes = {name: colour.palette(book, edition.colours) for name, edition in EDITIONS.items()}
    if rendered.parts:
        lay_out = joined_from_parts(rendered.parts, session, out_dir / ".cache" / "fonts",
                                    palettes)
    else:
        lay_out = lambda name: opened(engine.write(  # noqa: E731
            rendered.document, EDITIONS[name].variant, palettes[name]))
    laid_out, finished = finish_all(book, rendered.manifest, out_dir, lay_out, session)
    paths = publish(finished, out_dir, book)
    save_layout(out_dir, book.slug, laid_out, rendered.manifest)
    return paths


def restamp(book, out_dir, session):
    """Stamp the current ISBN onto the last build's layout, without laying the book out again."""
    out_dir = Path(out_dir)
    laid_out, manifest = load_layout(out_dir, book.slug)
    _, finished = finish_all(book, manifest, out_dir, lambda name: opened(laid_out[name]),
                             session)
    return publish(finished, out_dir, book)


def finish_all(book, manifest, out_dir, lay_out, session):
    """Each edition's laid-out PDF and every finished output, in the order of
    editions.outputs(): the editions stamped and finished at the same time (forks.run), each
    with its extras made beside it. `lay_out(name)`: a context that gives the edition's
    laid-out PDF open (pikepdf) and as bytes (`opened`, assemble.joined)."""
    cache = out_dir / ".cache"
    stamps = {name: documents.stamp(book, session, cache / "documents", edition.colours)
              for name, edition in EDITIONS.items()}  # drawn in each edition's colours

    def edition(name):
        def lay_out_and_finish():
            with lay_out(name) as (pdf, laid_out):
                made = {name: finish(pdf, len(laid_out), book, manifest, EDITIONS[name],
                                     stamps[name], cache)}
            for extra in EDITIONS[name].extras:
                data = extra.make(made[name], book, manifest, session, cache)
                if data is not None:
                    made[extra.name] = data
            return laid_out, made
        return lay_out_and_finish

    written = forks.run({name: edition(name) for name in EDITIONS})
    made = {name: pdf for _, outputs_made in written.values() for name, pdf in outputs_made.items()}
    return ({name: layout for name, (layout, _) in written.items()},
            {name: made[name] for name in outputs() if name in made})


def joined_from_parts(parts, session, cache_dir=None, palettes=None):
    """For a book laid out by parts: each part written in each edition unless it was before
    (the editions at the same time, forks.run), the font programs subset for all of them, and
    a function that joins one edition from its parts (assemble)."""
    missing = {name: [index for index, (part, _) in enumerate(parts) if name not in part.pdfs]
               for name in EDITIONS}  # none when the parts were laid out in parallel (render)

    def write_missing(name):
        return lambda: {index: engine.write_part(parts[index][0].document, EDITIONS[name].variant,
                                                 parts[index][1], session.engine,
                                                 (palettes or {}).get(name))
                        for index in missing[name]}

    for name, written in forks.run({name: write_missing(name) for name in EDITIONS
                                    if missing[name]}).items():
        for index, pdf in written.items():
            parts[index][0].pdfs[name] = pdf
    # Both editions draw the same glyphs: the programs are subset once, here, where the
    # first edition's parts were written (forks.run runs the first task in this process).
    first = next(iter(EDITIONS))
    programs = engine.programs([part.pdfs[first] for part, _ in parts], session.engine,
                               cache_dir, session.fonts.files_state)
    return lambda name: assemble.joined([part.pdfs[name] for part, _ in parts], programs)


@contextmanager
def opened(laid_out):
    """A laid-out PDF's bytes, open (pikepdf), and the bytes: what finish_all's `lay_out`
    gives for a book laid out whole or restamped."""
    with pikepdf.open(io.BytesIO(laid_out)) as pdf:
        yield pdf, laid_out


def finish(pdf, laid_out_size, book, manifest, edition, stamp, cache):
    """One edition's bytes: the laid-out PDF (open; `laid_out_size` bytes long) with the
    binding's blank pages, the ISBN stamp, the edition's own steps (editions.py), page labels,
    outline, metadata and, when tagged, its structure tree finished (tags.py). All in place
    with qpdf: the pages, their elements and every shared resource stay the objects they are,
    and are written once."""
    # The stamp's PDF stays open until the edition is saved: qpdf copies its data then.
    with pikepdf.open(io.BytesIO(stamp)) as stamps:
        tagged = "/StructTreeRoot" in pdf.Root
        figures = []
        if manifest.stamp_page is not None:
            colophon = pdf.pages[manifest.colophon].obj
            mcid = tags.next_mcid(pdf, manifest.colophon) if tagged else None
            if mcid is not None and book.isbn:
                figures.append((colophon, mcid,
                                f"{book.labels['isbn']} {book.isbn.hyphenated}"))
        if manifest.padding:
            press.pad(pdf, manifest.padding, manifest.padding_at)
        if manifest.stamp_page is not None:
            stamp_colophon(pdf, manifest.stamp_page, stamps, mcid)
        edition.finish(pdf, book, manifest, cache, laid_out_size)
        metadata.add_page_labels(pdf, manifest)
        metadata.add_outline(pdf, manifest)
        metadata.set_metadata(pdf, book, edition.name, edition.variant)
        if tagged:
            tags.finish(pdf, figures, [entry.id for entry in manifest.entries])
        return metadata.saved(pdf, edition.object_streams)


STAMP = "/TypesetStamp"


def stamp_colophon(pdf, page_index, stamps, mcid=None):
    """Draw the stamp page of the colophon's side (right pages are even indexes) onto it, as
    one form XObject (`/TypesetStamp`: `make isbn` could replace that one object). In a tagged
    edition it is marked content `mcid`, a Figure of its own (tags.finish adds it)."""
    source = stamps.pages[0 if page_index % 2 == 0 else 1]
    form = stamps.make_stream(metadata.drawing(source),
                              Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                              BBox=pikepdf.Array([float(v) for v in source.mediabox]),
                              Resources=source.obj.get("/Resources", pikepdf.Dictionary()))
    page = pdf.pages[page_index].obj
    # The page's own resources and forms: WeasyPrint's pages share them, and the stamp is the
    # colophon's alone.
    resources = pikepdf.Dictionary(dict(page.get("/Resources", pikepdf.Dictionary()).items()))
    forms = pikepdf.Dictionary(dict(resources.get("/XObject", pikepdf.Dictionary()).items()))
    forms[STAMP] = pdf.copy_foreign(form)
    resources.XObject = forms
    page.Resources = resources
    drawn = f"{STAMP} Do"
    if mcid is not None:
        drawn = f"/Figure <</MCID {mcid}>> BDC {drawn} EMC"
    existing = metadata.content_streams(pdf.pages[page_index])
    page.Contents = pikepdf.Array([pdf.make_stream(b"q\n"), *existing,
                                   pdf.make_stream(f"Q\nq {drawn} Q\n".encode("ascii"))])


# ---------------------------------------------------------------- publishing

def publish(finished, out_dir, book):
    """Write every output to a temporary file — its photos' data streamed from their files
    (embed.py) — then rename them all into place. What each output was before it (with its
    photos left out) is kept in .cache/previous for the proofs of what changed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    temporary = {}
    cache = out_dir / ".cache"
    try:
        with ThreadPoolExecutor() as pool:  # the press files' photos copied at the same time
            for name, written in zip(finished, pool.map(
                    lambda item: files.temporary(
                        out_dir, f"{book.slug}-{item[0]}",
                        lambda target: embed.write(item[1], target,
                                                   embed.sources(book, cache))),
                    finished.items())):
                temporary[name] = written
        paths = {}
        with lock.interrupts_held():  # all outputs in place, or none
            for name, written in temporary.items():
                paths[name] = out_dir / f"{book.slug}-{name}.pdf"
                os.replace(written, paths[name])
        for name, data in finished.items():
            kept = cache / "finished" / f"{book.slug}-{name}.pdf"
            if kept.exists():
                files.move_cache(kept, cache / "previous" / kept.name)
            files.write_cache(kept, data)
        return paths
    finally:
        for written in temporary.values():
            written.unlink(missing_ok=True)


def save_layout(out_dir, slug, laid_out, manifest):
    """Keep the laid-out PDFs and their manifest, so the ISBN can be re-stamped without
    layout."""
    cache = out_dir / ".cache"
    for name, data in laid_out.items():
        files.write_cache(cache / f"{slug}-{name}-layout.pdf", data)
    files.write_cache(cache / f"{slug}-manifest.json", manifest.to_json())


def load_layout(out_dir, slug):
    cache = out_dir / ".cache"
    try:
        laid_out = {name: (cache / f"{slug}-{name}-layout.pdf").read_bytes()
                    for name in EDITIONS}
        manifest = Manifest.from_json((cache / f"{slug}-manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"no laid-out book in {cache}: build the book first (make)")
    return laid_out, manifest

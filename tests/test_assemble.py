"""Editions joined from their parts' PDFs must be the editions written from the whole
layout: same pages, text, links, outline, labels, tags, and one font program per face —
whether the parts were laid out one after another and kept (watch) or at the same time in
several processes (a cold build on more than one core, the session's catalogue_build)."""

import io
import json
import os
import zlib

import pikepdf
import pytest
from pypdf import PdfReader

from typeset import content, engine, html, preflight, render
from typeset.build import build
from typeset.session import Session

from conftest import CATALOGUE
from test_render import contents_links, pages_as_pixels, paged_chapter


@pytest.fixture(scope="session")
def whole_build(tmp_path_factory):
    """The real catalogue laid out whole, in one process (TYPESET_JOBS=1)."""
    out = tmp_path_factory.mktemp("whole-build")
    before = os.environ.get("TYPESET_JOBS")
    os.environ["TYPESET_JOBS"] = "1"
    try:
        result = build(CATALOGUE, out, strict=True, pad=True, progress=lambda line: None)
    finally:
        if before is None:
            del os.environ["TYPESET_JOBS"]
        else:
            os.environ["TYPESET_JOBS"] = before
    # laid out: title page, contents, folios 01–98 (the dividers fill what padding did)
    assert result.manifest.page_count == 100 and result.manifest.padding == 0
    return result


@pytest.fixture(scope="session")
def parts_build(tmp_path_factory):
    """The real catalogue laid out by parts one after another and kept in memory, as watch
    does."""
    out = tmp_path_factory.mktemp("parts-build")
    parts = {}
    result = build(CATALOGUE, out, strict=True, pad=True, progress=lambda line: None,
                   session=Session(parts=parts))
    assert len(parts) >= 9  # the front matter and eight chapters, in stretches
    return result, parts


def font_programs(pdf):
    with pikepdf.open(pdf) as document:
        return sorted((str(obj.FontName), len(obj.get("/FontFile3", obj.get("/FontFile2"))
                                              .read_bytes()))
                      for obj in document.objects
                      if isinstance(obj, pikepdf.Dictionary)
                      and obj.get("/Type") == "/FontDescriptor")


def outline_and_labels(pdf):
    reader = PdfReader(pdf)

    def walk(items):
        for item in items:
            if isinstance(item, list):
                yield list(walk(item))
            else:
                yield (item.title, reader.get_destination_page_number(item))

    return list(walk(reader.outline)), list(reader.page_labels)


@pytest.fixture(scope="session", params=["watch", "parallel"])
def joined_build(request, parts_build, catalogue_build):
    return parts_build[0] if request.param == "watch" else catalogue_build


@pytest.mark.parametrize("edition", ["print", "screen"])
def test_an_edition_joined_from_parts_is_the_whole_edition(whole_build, joined_build, edition):
    whole = whole_build.paths[edition]
    joined = joined_build.paths[edition]
    assert pages_as_pixels(str(joined)) == pages_as_pixels(str(whole))
    texts = [[page.extract_text() for page in PdfReader(pdf).pages] for pdf in (joined, whole)]
    assert texts[0] == texts[1]
    assert outline_and_labels(joined) == outline_and_labels(whole)
    # One program per face, each the whole edition's subset: not one per part.
    assert font_programs(joined) == font_programs(whole)
    assert abs(joined.stat().st_size - whole.stat().st_size) < 0.03 * whole.stat().st_size


def test_the_joined_contents_page_links_to_the_chapters(whole_build, joined_build):
    joined = joined_build.paths["screen"].read_bytes()
    whole = whole_build.paths["screen"].read_bytes()
    links = contents_links(joined, joined_build.manifest)
    assert links == contents_links(whole, whole_build.manifest)
    assert set(links) == {entry.page for entry in whole_build.manifest.entries}
    assert joined_build.manifest == whole_build.manifest


def structure(pdf):
    """The structure tree as (role, page index) in reading order, and its parent tree
    checked: each page's and each link's key leads back to elements on that page."""
    with pikepdf.open(pdf) as document:
        pages = {page.obj.objgen: index for index, page in enumerate(document.pages)}
        root = document.Root.StructTreeRoot
        numbers = root.ParentTree.Nums
        parents = {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)}
        assert int(root.get("/ParentTreeNextKey", len(parents))) == len(parents)
        for index, page in enumerate(document.pages):
            if "/StructParents" not in page:  # a blank page added for the binding
                continue
            for element in parents[int(page.StructParents)]:
                assert pages[element.Pg.objgen] == index
            for annotation in page.get("/Annots", []):
                assert pages[parents[int(annotation.StructParent)].Pg.objgen] == index
        found = []

        def walk(element):
            found.append((str(element.S), pages[element.Pg.objgen]))
            kids = element.get("/K", [])
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/StructElem":
                    walk(kid)

        document_element = root.K[0]
        assert str(document_element.S) == "/Document"
        # Every element in the file belongs to a page of the document; one Document element.
        elements = [obj for obj in document.objects if isinstance(obj, pikepdf.Dictionary)
                    and obj.get("/Type") == "/StructElem"]
        assert [str(e.S) for e in elements].count("/Document") == 1
        assert all(e.Pg.objgen in pages for e in elements if str(e.S) != "/Document")
        for kid in document_element.K:
            assert kid.P.objgen == document_element.objgen
            walk(kid)
        return found


def test_the_joined_screen_edition_has_the_whole_structure_tree(whole_build, joined_build):
    joined = structure(joined_build.paths["screen"])
    assert joined == structure(whole_build.paths["screen"])
    assert len(joined) > 1000


def test_an_edit_writes_again_only_its_part(small_book):
    """After an edit the edited stretch of its chapter is laid out and written again, nothing
    else (the other parts keep the very PDFs of the last build); the editions equal a fresh
    whole build's."""
    parts = {}
    session = Session(parts=parts)  # as watch keeps it
    build(small_book.catalogue, small_book.root / "watch", pad=True, session=session,
          progress=lambda line: None)
    kept = [pdf for part in parts.values() for pdf in part.pdfs.values()]  # ids stay taken
    before = {id(pdf) for pdf in kept}
    # The front matter, chapter one, chapter two and its section (a stretch of its own, on a
    # left-hand page), in two editions.
    assert len(before) == 2 * 4
    small_book.write("two.yaml", (small_book.catalogue / "two.yaml").read_text(
        encoding="utf-8").replace("第二章的文字。", "第二章改過的文字。"))
    edited = build(small_book.catalogue, small_book.root / "watch", pad=True, session=session,
                   progress=lambda line: None)
    after = [{id(pdf) for pdf in part.pdfs.values()} for part in parts.values()]
    assert [bool(ids & before) for ids in after].count(False) == 1  # one part written anew
    assert len(kept) == 8
    whole = small_book.build()
    for edition in ("print", "screen"):
        assert pages_as_pixels(str(edited.paths[edition])) == pages_as_pixels(
            str(whole.paths[edition]))
        assert font_programs(edited.paths[edition]) == font_programs(whole.paths[edition])
    assert "改過" in "".join(page.extract_text()
                            for page in PdfReader(edited.paths["screen"]).pages)


def test_a_part_is_written_without_font_programs(small_book):
    book = content.load(small_book.catalogue)
    session = Session(parts={})
    rendered = render.render(book, session)
    part, keep = rendered.parts[1]
    written = engine.write_part(part.document, "pdf/ua-1", keep, session.engine)
    with pikepdf.open(io.BytesIO(written.data)) as pdf:
        programs = [len(obj.get("/FontFile3", obj.get("/FontFile2")).read_bytes())
                    for obj in pdf.objects
                    if isinstance(obj, pikepdf.Dictionary)
                    and obj.get("/Type") == "/FontDescriptor"]
    assert programs and max(programs) == 4  # the type marker only; join embeds the subset
    assert written.glyphs and all(glyphs for glyphs in written.glyphs.values())


def planned(small_book, two_at=3):
    """The small book with a complete folio plan (chapters and the section)."""
    small_book.book["chapters"] = [{"file": "one.yaml", "folio": 1},
                                   {"file": "two.yaml", "folio": two_at,
                                    "sections": {"two-a": two_at + 1}}]
    small_book.write_book()
    return content.load(small_book.catalogue)


def numbered(pages):
    """Page facts with each paragraph's key replaced by its order of first appearance (the
    keys tell paragraphs apart; how they are made differs with the process that read them),
    and each anchor on the page where it first appears only (a chapter's box carries its id
    onto every page it spans; a stretch after the first draws the chapter without it). The
    digest of the drawn boxes is left out: it compares builds laid out the same way (a
    stretch draws its continuing chapter in a box of its own; the pixels are compared)."""
    order, seen = {}, set()
    for page in pages:
        for piece in page.paragraphs:
            piece.key = order.setdefault(piece.key, len(order))
        page.anchors = [name for name in page.anchors if name not in seen]
        seen.update(page.anchors)
        page.digest = ""
    return pages


def test_a_planned_book_is_laid_out_in_parallel_as_the_whole(small_book, monkeypatch):
    monkeypatch.setenv("TYPESET_JOBS", "2")
    book = planned(small_book)
    parallel = render.render(book, Session(), pad=True)
    # Laid out elsewhere: the front matter, chapter one, chapter two and its section.
    assert parallel.document is None and len(parallel.parts) == 4
    assert all(set(part.pdfs) == {"print", "screen"} for part, _ in parallel.parts)
    monkeypatch.setenv("TYPESET_JOBS", "1")
    whole = render.render(book, Session(), pad=True)
    assert whole.document is not None and whole.parts is None
    assert parallel.manifest == whole.manifest
    assert numbered(parallel.pages) == numbered(whole.pages)
    monkeypatch.setenv("TYPESET_JOBS", "2")
    joined = build(small_book.catalogue, small_book.root / "parallel", strict=True, pad=True,
                   progress=lambda line: None)
    monkeypatch.setenv("TYPESET_JOBS", "1")
    one = small_book.build()
    for edition in ("print", "screen"):
        assert pages_as_pixels(str(joined.paths[edition])) == pages_as_pixels(
            str(one.paths[edition]))


def test_a_part_off_its_plan_is_laid_out_whole_and_reported(small_book, monkeypatch):
    """A chapter that does not fill the pages the plan gives it: the parallel layout is
    discarded (its contents would print planned folios), the whole layout shows the drift."""
    monkeypatch.setenv("TYPESET_JOBS", "2")
    book = planned(small_book, two_at=5)
    rendered = render.render(book, Session(), pad=True)
    assert rendered.document is not None and rendered.parts is None
    assert any(f.kind == "folio-plan" for f in preflight.preflight(book, rendered))


def test_a_process_that_drew_no_part_subsets_the_same_program(small_book):
    """The font programs are subset where the parts are joined, which may not be where they
    were drawn: the face is loaded again through Pango, and the subset is the same."""
    session = Session(parts={})
    rendered = render.render(content.load(small_book.catalogue), session)
    written = [engine.write_part(part.document, "pdf/x-4", keep, session.engine)
               for part, keep in rendered.parts]
    drawn_here = engine.programs(written, session.engine)
    elsewhere = engine.State()  # as in a process that drew nothing: no faces, no programs
    assert engine.programs(written, elsewhere) == drawn_here
    assert set(elsewhere.faces) == set(drawn_here)


def test_a_new_process_after_an_edit_lays_out_only_that_part(small_book, monkeypatch):
    """The parts of a parallel build are kept in build/.cache/parts: the next build (a new
    process, as `make` after an edit) lays out only the part the edit touched, fills only its
    chapter's HTML again (and the front matter's, whose contents list every chapter), and
    writes the same bytes as a build from nothing. The font programs are kept compressed."""
    monkeypatch.setenv("TYPESET_JOBS", "2")
    planned(small_book)
    out = small_book.root / "kept"
    build(small_book.catalogue, out, strict=True, pad=True, progress=lambda line: None)
    assert len(list((out / ".cache" / "parts").glob("*.part"))) == 4  # two's section apart
    programs = list((out / ".cache" / "fonts").glob("*.program"))
    assert programs and all(zlib.decompress(path.read_bytes())[:4] in (b"OTTO", b"\0\1\0\0")
                            for path in programs)
    filled = small_book.root / "filled.txt"
    real_html = html.book_html

    def book_html(book, images, **context):
        with filled.open("a", encoding="utf-8") as file:
            file.write((context["part"].id if "part" in context else "front") + "\n")
        return real_html(book, images, **context)

    monkeypatch.setattr(html, "book_html", book_html)
    small_book.write("two.yaml", (small_book.catalogue / "two.yaml").read_text(
        encoding="utf-8").replace("第二章的文字。", "第二章改過的文字。"))
    log = small_book.root / "laid-out.txt"  # the layouts run in forked processes too
    real = render.lay_out

    def lay_out(book, session, source, tokens):
        with log.open("a", encoding="utf-8") as file:
            file.write(("two, edited" if "改過" in source else "another") + "\n")
        return real(book, session, source, tokens)

    monkeypatch.setattr(render, "lay_out", lay_out)
    edited = build(small_book.catalogue, out, strict=True, pad=True, progress=lambda line: None)
    # Chapter two's stretch; the front matter and chapter one from the cache.
    assert log.read_text(encoding="utf-8").splitlines() == ["two, edited"]
    assert set(filled.read_text(encoding="utf-8").split()) == {"two", "front"}
    assert len(list((out / ".cache" / "parts").glob("*.part"))) == 4  # the old two is gone
    fresh = build(small_book.catalogue, small_book.root / "fresh", strict=True, pad=True,
                  progress=lambda line: None)
    for edition in ("print", "screen", "cover", "imposed"):
        if edition in fresh.paths:
            assert edited.paths[edition].read_bytes() == fresh.paths[edition].read_bytes()


def test_a_damaged_cache_entry_is_laid_out_again(small_book, monkeypatch):
    monkeypatch.setenv("TYPESET_JOBS", "2")
    planned(small_book)
    out = small_book.root / "kept"
    first = build(small_book.catalogue, out, strict=True, pad=True, progress=lambda line: None)
    screen = first.paths["screen"].read_bytes()
    for entry in (out / ".cache" / "parts").glob("*.part"):
        entry.write_bytes(entry.read_bytes()[:100])  # a torn write
    again = build(small_book.catalogue, out, strict=True, pad=True, progress=lambda line: None)
    assert again.paths["screen"].read_bytes() == screen


def test_a_build_after_a_change_of_styles_does_not_try_a_joined_stretch_again(small_book,
                                                                              monkeypatch):
    """hints.json keeps which stretches the last build joined with the one before them: with
    no part kept (as after a change of styles), a new process lays out each part once."""
    paged_chapter(small_book, (2, 1, 3))
    monkeypatch.setenv("TYPESET_JOBS", "1")
    whole = render.render(content.load(small_book.catalogue), Session(), pad=True)
    small_book.book["chapters"][1]["folio"] = next(
        entry.folio for entry in whole.manifest.entries if entry.id == "two")
    small_book.write_book()
    monkeypatch.setenv("TYPESET_JOBS", "2")
    out = small_book.root / "kept"
    first = build(small_book.catalogue, out, strict=True, pad=True, progress=lambda line: None)
    cache = out / ".cache" / "parts"
    assert json.loads((cache / "hints.json").read_text(encoding="utf-8"))["joined"]
    real = render.lay_out

    def rebuilt(hints):
        """How many layouts a new process makes with no part kept, with or without hints."""
        log = small_book.root / f"laid-out-{hints}.txt"  # forked processes lay out too

        def lay_out(book, session, source, tokens):
            with log.open("a", encoding="utf-8") as file:
                file.write("laid out\n")
            return real(book, session, source, tokens)

        monkeypatch.setattr(render, "lay_out", lay_out)
        for entry in cache.glob("*.part"):
            entry.unlink()
        if not hints:
            (cache / "hints.json").unlink()
        made = build(small_book.catalogue, out, strict=True, pad=True,
                     progress=lambda line: None)
        monkeypatch.setattr(render, "lay_out", real)
        return made, len(log.read_text(encoding="utf-8").splitlines())

    again, laid_out = rebuilt(hints=True)
    rendered = render.render(content.load(small_book.catalogue), Session(), pad=True)
    assert laid_out == len(rendered.parts)  # each part once: no stretch tried alone
    assert rebuilt(hints=False)[1] > laid_out  # without the hints, the joined one is
    for edition in ("print", "screen"):
        assert pages_as_pixels(str(again.paths[edition])) == pages_as_pixels(
            str(first.paths[edition]))

"""Stage 2: templates and CSS for every kind, the layout manifest and the contents' folios."""

import re
from pathlib import Path

import pdfplumber
import pytest

from typeset import content, html, render
from typeset.kinds import KINDS
from typeset.session import Session
from typeset.units import to_mm

PROJECT = Path(__file__).resolve().parent.parent


def test_every_kind_has_its_template_and_style():
    assert html.kinds_without_template() == []
    for kind in KINDS:
        template = (PROJECT / "templates" / "blocks" / f"{kind}.html.j2").read_text()
        style = (PROJECT / "styles" / "components" / f"{kind}.css").read_text()
        assert f'class="{kind}' in template, f"{kind}: the template's root has class {kind}"
        assert f".{kind}" in style, f"{kind}: the stylesheet styles .{kind}"


def test_design_tokens_derive_the_type_area(small_book):
    book = content.load(small_book.catalogue)
    tokens = html.design_tokens(book)
    measure, body = int(book.design["measure"]), to_mm(book.design["body_size"])
    assert float(tokens["type-width"][:-2]) == round(measure * body, 3)
    total = (to_mm(tokens["margin-inner"]) + to_mm(tokens["margin-outer"])
             + to_mm(tokens["type-width"]))
    assert abs(total - to_mm(book.design["trim_width"])) < 0.01


def test_manifest_and_contents_folios(small_book):
    result = small_book.build()
    manifest = result.manifest
    assert manifest.front_pages == 4
    entries = {e.id: e for e in manifest.entries}
    assert entries["one"].folio == 1 and entries["one"].page == 4
    # Chapters open on a recto (odd folio), sections on a verso.
    assert entries["two"].folio % 2 == 1 and entries["two-a"].folio % 2 == 0
    with pdfplumber.open(result.paths["print"]) as pdf:
        contents = pdf.pages[manifest.front_pages - 1].extract_text()
    for entry in manifest.entries:
        title = entry.title.split("．")[-1]
        assert re.search(rf"{title}[.\s·…]*{entry.folio:02d}", contents), (title, contents)


def test_front_matter_longer_than_planned_moves_folio_01(small_book):
    """A contents that runs over a page pushes 前言 later; folio 01 follows it (second pass)."""
    small_book.book["chapters"] = [{"file": f"c{i:02d}.yaml"} for i in range(40)]
    small_book.write_book()
    for name in ("one.yaml", "two.yaml"):
        (small_book.catalogue / name).unlink()
    for i in range(40):
        small_book.write(f"c{i:02d}.yaml", f"id: c{i:02d}\nnumber: '{i}'\ntitle: 第{i}章\n"
                                           "blocks:\n  - paragraph: 文字。\n")
    result = small_book.build()
    first = result.manifest.entries[0]
    assert result.manifest.front_pages > 4 and first.folio == 1
    assert first.page == result.manifest.front_pages


def test_missing_photo_is_a_placeholder_and_a_warning(small_book):
    result = small_book.build()
    # (besides: no ISBN yet, and the output profile is a stand-in)
    assert [f.kind for f in result.findings
            if f.kind not in ("isbn", "output-intent")] == ["missing-image"]
    assert "images/one/photo.jpg" in result.findings[0].message
    assert result.findings[0].where == "folio 01 (one.yaml:6)"
    with pdfplumber.open(result.paths["print"]) as pdf:
        text = "".join(pdf.pages[result.manifest.entries[0].page].extract_text().split())
    assert "圖片待補" in text and "images/one/photo.jpg" in text and "一張照片的說明。" in text


def test_photo_that_arrives_is_drawn_in_the_same_slot(small_book):
    from PIL import Image
    before = small_book.build()
    folder = small_book.images / "one"
    folder.mkdir()
    Image.new("RGB", (2400, 1600), (40, 90, 160)).save(folder / "photo.jpg")  # 370 dpi
    after = small_book.build()
    assert [f.kind for f in after.findings if f.kind not in ("isbn", "output-intent")] == []
    assert after.manifest.entries == before.manifest.entries
    with pdfplumber.open(after.paths["print"]) as pdf:
        page = pdf.pages[after.manifest.entries[0].page]
        assert len(page.images) == 1 and "圖片待補" not in page.extract_text()


def pages_as_pixels(pdf):
    """Each page of a written PDF, drawn small (pypdfium2): what a reader sees."""
    import pypdfium2
    document = pypdfium2.PdfDocument(pdf)
    return [document[index].render(scale=0.5).to_pil().tobytes()
            for index in range(len(document))]


def contents_links(pdf, manifest):
    """The page each link of the contents page of a written PDF opens, in order."""
    import io
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[manifest.front_pages - 1]
    targets = []
    for annotation in page.get("/Annots", []):
        link = annotation.get_object()
        destination = link.get("/Dest") or link.get("/A", {}).get("/D")
        if isinstance(destination, str):
            targets.append(reader.get_destination_page_number(
                reader.named_destinations[destination]))
        else:
            targets.append(reader.get_page_number(destination[0].get_object()))
    return targets


def layout_summary(rendered):
    manifest = rendered.manifest
    return (manifest.front_pages, manifest.page_count, manifest.colophon, manifest.entries,
            manifest.missing_images, manifest.placed)


def test_the_catalogue_laid_out_by_parts_equals_the_whole_layout(monkeypatch):
    """watch lays the book out stretch by stretch (a chapter's pages between breaks to a
    left-hand page: html.pieces); each page must be the page the whole-book layout makes
    (drawn identically), with the same manifest: outline, labels, folios."""
    monkeypatch.setenv("TYPESET_JOBS", "1")  # one core: the whole layout, not in parallel
    book = content.load(PROJECT / "catalogue")
    whole = render.render(book, Session(), pad=True)
    parts = {}
    by_parts = render.render(book, Session(parts=parts), pad=True)
    # The front matter, then each chapter in stretches: 30 parts for 8 chapters, each a
    # chapter's start on a right-hand page or a stretch on a left-hand one.
    assert len(by_parts.parts) > 3 * len(book.chapters)
    sides = [part.document.pages[0]._page_box.page_type.side for part, _ in by_parts.parts[1:]]
    assert sides.count("right") == len(book.chapters)
    assert layout_summary(by_parts) == layout_summary(whole)
    assert by_parts.warnings == whole.warnings == []
    joined, one_piece = by_parts.document.write_pdf(), whole.document.write_pdf()
    assert pages_as_pixels(joined) == pages_as_pixels(one_piece)
    links = contents_links(joined, by_parts.manifest)  # across parts, to the chapters
    assert links == contents_links(one_piece, whole.manifest)
    assert set(links) == {entry.page for entry in whole.manifest.entries}


def test_an_edit_lays_out_again_only_its_chapter(small_book, monkeypatch):
    parts = {}
    render.render(content.load(small_book.catalogue), Session(parts=parts))
    laid_out = []
    real = render.lay_out
    monkeypatch.setattr(render, "lay_out",
                        lambda book, session, source, *args: laid_out.append(source) or
                        real(book, session, source, *args))
    unchanged = render.render(content.load(small_book.catalogue), Session(parts=parts))
    assert laid_out == []
    assert len(unchanged.document.pages) == unchanged.manifest.page_count
    small_book.write("two.yaml", (small_book.catalogue / "two.yaml").read_text(
        encoding="utf-8").replace("第二章的文字。", "第二章改過的文字。"))
    book = content.load(small_book.catalogue)
    edited = render.render(book, Session(parts=parts))
    assert len(laid_out) == 1 and "改過" in laid_out[0] and 'id="two"' in laid_out[0]
    assert 'id="two-a"' not in laid_out[0]  # the section, a stretch of its own, is kept
    assert len(parts) == len(edited.parts) == 4  # what the last build used, nothing older
    monkeypatch.undo()
    whole = render.render(book, Session())
    assert layout_summary(edited) == layout_summary(whole)
    assert pages_as_pixels(edited.document.write_pdf()) == pages_as_pixels(
        whole.document.write_pdf())


def test_a_kept_part_is_not_rendered_to_html_again(small_book, monkeypatch):
    """The session keeps each part's HTML by what it reads: after an edit to one chapter only
    that chapter's parts (and the front matter, its contents) are filled again; after an edit
    to a book's own template, every part, with the edit in it."""
    session = Session(parts={})
    render.render(content.load(small_book.catalogue), session)
    filled, made = [], []
    real = html.book_html

    def book_html(book, images, **context):
        filled.append(context["part"].id if "part" in context else "front")
        made.append(real(book, images, **context))
        return made[-1]

    monkeypatch.setattr(html, "book_html", book_html)
    small_book.write("two.yaml", (small_book.catalogue / "two.yaml").read_text(
        encoding="utf-8").replace("第二章的文字。", "第二章改過的文字。"))
    edited = render.render(content.load(small_book.catalogue), session)
    assert filled and set(filled) == {"two", "front"}
    own = small_book.root / "templates" / "blocks"
    own.mkdir(parents=True)
    (own / "paragraph.html.j2").write_text(
        (PROJECT / "templates" / "blocks" / "paragraph.html.j2").read_text(encoding="utf-8")
        .replace('class="paragraph"', 'class="paragraph own-paragraph"'), encoding="utf-8")
    filled.clear()
    made.clear()
    again = render.render(content.load(small_book.catalogue), session)
    assert set(filled) == {"one", "two", "front"} and len(again.parts) == len(edited.parts)
    chapters = [source for name, source in zip(filled, made) if name != "front"]
    assert all("own-paragraph" in source for source in chapters)
    monkeypatch.undo()
    assert pages_as_pixels(again.document.write_pdf()) == pages_as_pixels(render.render(
        content.load(small_book.catalogue), Session()).document.write_pdf())


@pytest.mark.parametrize("lengths", [(2, 1, 3), (1, 2, 2), (4, 3, 1)],
                         ids=["verso-recto", "recto-verso", "long-first"])
def test_stretches_between_page_breaks_join_as_the_whole_book(small_book, monkeypatch,
                                                              lengths):
    """A chapter cut at its page breaks: a stretch whose page break falls on a left-hand page
    is a part of its own, one whose break falls on a right-hand page is laid out again with
    the stretch before it (its spread is shared) — either way the pages are the whole book's.
    An edit in the last stretch lays out that stretch only."""
    paged_chapter(small_book, lengths)
    book = content.load(small_book.catalogue)
    parts = {}
    by_parts = render.render(book, Session(parts=parts), pad=True)
    whole = render.render(book, Session(), pad=True)
    assert layout_summary(by_parts) == layout_summary(whole)
    assert pages_as_pixels(by_parts.document.write_pdf()) == pages_as_pixels(
        whole.document.write_pdf())
    sides = [part.document.pages[0]._page_box.page_type.side for part, _ in by_parts.parts[2:]]
    assert sides[0] == "right" and all(side == "left" for side in sides[1:])
    assert len(by_parts.parts) > 3  # at least one stretch stood alone
    laid_out = []
    real = render.lay_out
    monkeypatch.setattr(render, "lay_out",
                        lambda book, session, source, *args: laid_out.append(source) or
                        real(book, session, source, *args))
    small_book.write("two.yaml", (small_book.catalogue / "two.yaml").read_text(
        encoding="utf-8").replace(f"第{len(lengths) - 1}段第0句。", "第末段第0句。"))
    edited = render.render(content.load(small_book.catalogue), Session(parts=parts), pad=True)
    assert len(laid_out) == 1 and "第末段" in laid_out[0] and "第0段" not in laid_out[0]
    monkeypatch.undo()
    assert pages_as_pixels(edited.document.write_pdf()) == pages_as_pixels(render.render(
        content.load(small_book.catalogue), Session(), pad=True).document.write_pdf())


def test_after_a_style_edit_a_joined_stretch_is_not_tried_alone_again(small_book, monkeypatch):
    """A change of styles lays out every part again; a stretch that did not stand alone in the
    last build (its page break fell on a right-hand page) is then laid out with the one before
    it at once: one layout per part, and the pages are still the whole book's."""
    paged_chapter(small_book, (2, 1, 3))
    session = Session(parts={})
    laid_out = []
    real = render.lay_out
    monkeypatch.setattr(render, "lay_out",
                        lambda book, session, source, *args: laid_out.append(source) or
                        real(book, session, source, *args))
    first = render.render(content.load(small_book.catalogue), session, pad=True)
    assert len(laid_out) > len(first.parts)  # a stretch was tried alone, then joined
    styles = small_book.root / "styles"
    styles.mkdir()
    (styles / "own.css").write_text(".caption { letter-spacing: 0.01em; }\n", encoding="utf-8")
    laid_out.clear()
    book = content.load(small_book.catalogue)
    again = render.render(book, session, pad=True)
    assert len(laid_out) == len(again.parts) == len(first.parts)
    monkeypatch.undo()
    assert pages_as_pixels(again.document.write_pdf()) == pages_as_pixels(
        render.render(book, Session(), pad=True).document.write_pdf())


def paged_chapter(small_book, lengths):
    """Chapter two as runs of long paragraphs (`lengths`: how many in each) with a page break
    between each two runs; chapter one planned on folio 1."""
    runs = [["  - paragraph: " + f"第{i}段第{n}句。" + "澳門幫扶從江縣脫貧攻堅。" * 40
             for n in range(count)] for i, count in enumerate(lengths)]
    small_book.write("two.yaml", "id: two\nnumber: 二\ntitle: 第二章\nblocks:\n" + "\n".join(
        "\n".join(run) for run in _joined(runs, "  - pagebreak: page")) + "\n")
    small_book.book["chapters"] = [{"file": "one.yaml", "folio": 1}, {"file": "two.yaml"}]
    small_book.write_book()


def _joined(runs, between):
    """The runs with a line `between` each two."""
    out = []
    for index, run in enumerate(runs):
        out.append(run + ([between] if index < len(runs) - 1 else []))
    return out


def test_a_chapter_that_grows_moves_the_next_and_the_contents(small_book):
    """A chapter that runs a page longer pushes the next one to a later recto: that part is
    laid out again with its new first folio, and the contents page prints it."""
    parts = {}
    before = render.render(content.load(small_book.catalogue), Session(parts=parts))
    small_book.write("one.yaml", (small_book.catalogue / "one.yaml").read_text(
        encoding="utf-8").replace("  - paragraph: 貧困是人類社會的頑疾。",
                                  "\n".join(["  - paragraph: " + "貧困是人類社會的頑疾。" * 20] * 12)))
    book = content.load(small_book.catalogue)
    after = render.render(book, Session(parts=parts))
    folio = {e.id: e.folio for e in after.manifest.entries}
    assert folio["two"] > {e.id: e.folio for e in before.manifest.entries}["two"]
    assert layout_summary(after) == layout_summary(render.render(book, Session()))
    contents = after.document.copy([after.document.pages[after.manifest.front_pages - 1]])
    with pdfplumber.open(__import__("io").BytesIO(contents.write_pdf())) as pdf:
        assert re.search(rf"第二章[.\s·…]*{folio['two']:02d}", pdf.pages[0].extract_text())


def page_texts(rendered):
    import io
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(rendered.document.write_pdf()))
    return ["".join(page.extract_text().split()) for page in reader.pages]


@pytest.mark.parametrize("lengths", [(1, 9, 2), (6, 1, 13), (20, 4, 1, 7)],
                         ids=["short-long-short", "recto-verso-mix", "four-chapters"])
def test_parts_of_every_length_join_as_the_whole_book(small_book, lengths):
    """Chapters that end on a recto (a blank verso follows) or on a verso, with sections that
    open on a verso: laid out by parts, the pages are the whole book's pages."""
    small_book.book["chapters"] = [{"file": f"c{i}.yaml"} for i in range(len(lengths))]
    small_book.write_book()
    for name in ("one.yaml", "two.yaml"):
        (small_book.catalogue / name).unlink()
    for i, count in enumerate(lengths):
        paragraphs = "\n".join(f"  - paragraph: 第{i}章第{n}段。" + "澳門幫扶從江縣脫貧攻堅。" * 30
                               for n in range(count))
        small_book.write(f"c{i}.yaml", f"id: c{i}\nnumber: '{i}'\ntitle: 第{i}章\nblocks:\n"
                                       f"{paragraphs}\nsections:\n  - id: c{i}-a\n"
                                       f"    number: （一）\n    title: 第{i}章第一節\n"
                                       "    blocks:\n      - paragraph: 節的文字。\n")
    book = content.load(small_book.catalogue)
    whole = render.render(book, Session(), pad=True)
    by_parts = render.render(book, Session(parts={}), pad=True)
    assert layout_summary(by_parts) == layout_summary(whole)
    assert page_texts(by_parts) == page_texts(whole)

"""Stage 2: templates and CSS for every kind, the layout manifest and the contents' folios."""

import re
from pathlib import Path

import pdfplumber

from typeset import content, render
from typeset.content import KINDS

PROJECT = Path(__file__).resolve().parent.parent


def test_every_kind_has_its_template_and_style():
    assert render.kinds_without_template() == []
    for kind in KINDS:
        template = (PROJECT / "templates" / "blocks" / f"{kind}.html.j2").read_text()
        style = (PROJECT / "styles" / "components" / f"{kind}.css").read_text()
        assert f'class="{kind}' in template, f"{kind}: the template's root has class {kind}"
        assert f".{kind}" in style, f"{kind}: the stylesheet styles .{kind}"


def test_no_fixed_phrase_in_templates():
    labels = content._labels(PROJECT / "catalogue")
    for template in (PROJECT / "templates").rglob("*.j2"):
        text = template.read_text()
        for phrase in labels.values():
            assert phrase not in text, f"{template.name} types {phrase}: use the labels file"


def test_design_tokens_derive_the_type_area(small_book):
    book = content.load(small_book.catalogue)
    tokens = render.design_tokens(book)
    measure, body = int(book.design["measure"]), render.to_mm(book.design["body_size"])
    assert float(tokens["type-width"][:-2]) == round(measure * body, 3)
    total = (render.to_mm(tokens["margin-inner"]) + render.to_mm(tokens["margin-outer"])
             + render.to_mm(tokens["type-width"]))
    assert abs(total - render.to_mm(book.design["trim_width"])) < 0.01


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
    assert [f.kind for f in result.findings if f.kind != "isbn"] == ["missing-image"]
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
    assert [f.kind for f in after.findings if f.kind != "isbn"] == []
    assert after.manifest.entries == before.manifest.entries
    with pdfplumber.open(after.paths["print"]) as pdf:
        page = pdf.pages[after.manifest.entries[0].page]
        assert len(page.images) == 1 and "圖片待補" not in page.extract_text()

"""A block kind is one declaration (typeset/kinds.py) that every stage reads: a kind added
the way docs/architecture.md says — its entry, its template, its stylesheet; here a book's own
template and stylesheet beside its catalogue — works end to end, whatever its fields are
called."""

import pdfplumber
import pytest

from typeset import kinds
from typeset.errors import ContentError
from typeset.fields import image, optional, required, text

TEMPLATE = """{% import "macros.html.j2" as m with context %}
{% set f = block.fields %}
<figure class="map"{{ m.block_attrs(block) }}>
  {{ m.slot(f.drawing, "square", f.legend or "") }}
  {% if f.legend %}<figcaption class="caption">{{ m.lines(f.legend) }}</figcaption>{% endif %}
</figure>
"""


@pytest.fixture
def book_with_a_map(small_book, monkeypatch):
    monkeypatch.setitem(kinds.KINDS, "map", kinds.Kind(
        {"drawing": required(image), "legend": optional(text)}, "a map drawn for the book"))
    (small_book.root / "templates" / "blocks").mkdir(parents=True)
    (small_book.root / "templates" / "blocks" / "map.html.j2").write_text(TEMPLATE)
    (small_book.root / "styles" / "components").mkdir(parents=True)
    (small_book.root / "styles" / "components" / "map.css").write_text(
        ".map { margin: 0 0 4mm; } .map .slot { width: 60mm; }\n")
    small_book.write("one.yaml", """
        id: one
        number: 一
        title: 第一章
        blocks:
          - paragraph: 貧困是人類社會的頑疾。
          - map:
              drawing: images/one/area.svg
              legend: 從江縣位置示意圖
        """)
    return small_book


def test_a_kind_whose_image_field_is_not_called_image(book_with_a_map):
    result = book_with_a_map.build()  # strictly: a WeasyPrint warning would fail it
    missing = [f for f in result.findings if f.kind == "missing-image"]
    assert [(f.where, f.message.split(" has")[0]) for f in missing] == [
        ("folio 01 (one.yaml:6)", "images/one/area.svg")]
    with pdfplumber.open(result.paths["print"]) as pdf:
        page = "".join(pdf.pages[result.manifest.front_pages].extract_text().split())
    labels = book_with_a_map.catalogue / "labels.yaml"
    pending = next(line.split(":", 1)[1].strip() for line in labels.read_text().splitlines()
                   if line.startswith("image_pending:"))
    assert pending in page and "images/one/area.svg" in page and "從江縣位置示意圖" in page


def test_the_new_image_field_gets_the_image_checks(book_with_a_map):
    (book_with_a_map.images / "one").mkdir()
    (book_with_a_map.images / "one" / "area.svg").write_text("<svg><g>")
    with pytest.raises(ContentError) as caught:
        book_with_a_map.build()
    assert (caught.value.file.name, caught.value.line) == ("one.yaml", 7)
    assert "map).drawing: images/one/area.svg is not well-formed SVG" in str(caught.value)


def test_the_new_text_field_gets_the_font_check(book_with_a_map):
    book_with_a_map.write("one.yaml", (book_with_a_map.catalogue / "one.yaml").read_text()
                          .replace("從江縣位置示意圖", "從江縣\U00030000"))
    with pytest.raises(ContentError, match=r"one\.yaml:6: character .* \(U\+30000\)"):
        book_with_a_map.build()

"""Tables across pages, read from the built PDF: WeasyPrint 70 neither repeats nor carries a
rowspan cell into the next page, so the rows a rowspan joins are kept on one page, and a cell
spanning more than fields.RUN rows is set as runs of rows that each show its text. A row that
does not fit its table's columns is a content error (tests/bad_inputs/80-… to 85-…)."""

import pdfplumber
import pytest
import yaml

from conftest import SmallBook
from typeset import content
from typeset.fields import RUN

COLUMNS = ["序號", "協議名稱", "簽署單位"]


def grouped(groups, size):
    """`groups` groups of `size` rows labelled A01, A02 …, each with one cell spanning it."""
    rows = []
    for group in range(groups):
        for row in range(size):
            label = f"A{size * group + row + 1:02d}"
            span = [{"text": f"甲組{group + 1:02d}", "rowspan": size}] if row == 0 else []
            rows.append([label, f"協議名稱{label}", *span])
    return rows


def long(size):
    """One cell spanning `size` rows labelled B01 …, then a row of its own."""
    rows = [[f"B{i + 1:02d}", "協議名稱"] for i in range(size)] + [["B99", "協議名稱", "單位"]]
    rows[0].append({"text": "乙組單位", "rowspan": size})
    return rows


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The text of each page of a small book whose first chapter is a paragraph, a table of
    15 groups of 4 rows (two page breaks or more fall among them) and, on a page of its own,
    a table with a cell spanning 40 rows (taller than a page)."""
    book = SmallBook(tmp_path_factory.mktemp("tables"))
    book.book["chapters"] = [{"file": "one.yaml"}, {"file": "two.yaml"}]
    book.write_book()
    chapter = {"id": "one", "number": "一", "title": "第一章", "blocks": [
        {"paragraph": "貧困是人類社會的頑疾，" * 30},
        {"table": {"columns": list(COLUMNS), "rows": grouped(15, 4)}},
        {"pagebreak": "page"},
        {"table": {"columns": list(COLUMNS), "rows": long(40)}}]}
    (book.catalogue / "one.yaml").write_text(yaml.safe_dump(chapter, allow_unicode=True),
                                             encoding="utf-8")
    with pdfplumber.open(book.build().paths["print"]) as pdf:
        return ["".join((page.extract_text() or "").split()) for page in pdf.pages]


def test_the_rows_a_rowspan_joins_stay_on_one_page_with_its_text(pages):
    used = set()
    for group in range(15):
        labels = [f"A{4 * group + row + 1:02d}" for row in range(4)]
        on = [i for i, text in enumerate(pages) if any(label in text for label in labels)]
        assert len(on) == 1, f"the rows {labels} run over pages {on}"
        assert all(label in pages[on[0]] for label in labels)
        assert f"甲組{group + 1:02d}" in pages[on[0]]
        used.add(on[0])
    assert len(used) >= 3  # the table runs over pages: two breaks or more fall among its rows


def test_a_cell_spanning_more_rows_than_a_page_shows_its_text_on_each_page(pages):
    on = [i for i, text in enumerate(pages)
          if any(f"B{row + 1:02d}" in text for row in range(40))]
    assert len(on) >= 2, "the group is meant to be taller than a page"
    for i in on:
        assert "乙組單位" in pages[i], f"page {i + 1} shows rows of the group but not its text"


def test_a_long_rowspan_is_set_in_runs_cut_at_the_same_rows(small_book):
    """Every cell that crosses the 8th row of its group is cut there, its text repeated: no
    rowspan holds that row, so a page may break before it."""
    rows = [[f"{i + 1}", "名稱"] for i in range(20)]
    rows[0].append({"text": "乙組單位", "rowspan": 20})
    rows[6][1] = {"text": "分組", "rowspan": 4}
    for i in (7, 8, 9):
        rows[i].pop()
    chapter = {"id": "one", "title": "第一章",
               "blocks": [{"table": {"columns": COLUMNS, "rows": rows}}]}
    (small_book.catalogue / "one.yaml").write_text(yaml.safe_dump(chapter, allow_unicode=True),
                                                   encoding="utf-8")
    as_set = content.load(small_book.catalogue).chapters[0].blocks[0].fields["rows"]
    spans = {(i, cell["lines"][0]): cell["rowspan"] for i, row in enumerate(as_set)
             for cell in row if cell["lines"][0] in ("乙組單位", "分組")}
    assert RUN == 8  # the rows above are drawn for runs of 8
    assert spans == {(0, "乙組單位"): 8, (8, "乙組單位"): 8, (16, "乙組單位"): 4,
                     (6, "分組"): 2, (8, "分組"): 2}
    assert [cell["lines"][0] for cell in as_set[8]] == ["9", "分組", "乙組單位"]

"""Vertical inscriptions (題辭), read from the built book: columns run from the right, so one
that goes on from a left-hand page to the right-hand page beside it would be read end first —
a finding with the fix; started on a right-hand page it goes on overleaf, as a reader turns."""

import pdfplumber

LINES = ["脫貧攻堅連貴澳愛國愛澳暖人心", "攜手脫貧攻堅戰同心共圓中國夢"] * 4  # two pages


def inscription_book(small_book, side):
    lines = "\n".join(f"                - {line}" for line in LINES)
    small_book.write("one.yaml", f"""
        id: one
        number: 一
        title: 第一章
        blocks:
          - paragraph: 貧困是人類社會的頑疾。
          - pagebreak: {side}
          - inscription:
              lines:
{lines}
              author: 賀一誠
              role: 澳門特別行政區行政長官
        """)
    small_book.book["chapters"][1]["folio"] = 7
    small_book.write_book()
    return small_book.build(strict=False)


def inscription_findings(result):
    return [f for f in result.findings if f.kind == "inscription"]


def test_an_inscription_going_on_from_a_left_to_a_right_page_is_named(small_book):
    [finding] = inscription_findings(inscription_book(small_book, "left"))
    assert finding.level == "error" and "one.yaml:" in finding.where
    assert "left-hand page to the right-hand page beside it" in finding.message
    assert "`pagebreak: right`" in finding.message


def test_started_on_a_right_hand_page_it_goes_on_overleaf(small_book):
    result = inscription_book(small_book, "right")
    assert inscription_findings(result) == []
    with pdfplumber.open(result.paths["print"]) as pdf:
        pages = [index for index, page in enumerate(pdf.pages) if "暖" in page.extract_text()]
    assert len(pages) == 2 and pages[0] % 2 == 0  # a right-hand page (page 1 is one), overleaf
    assert not [f for f in result.findings if f.kind == "overflow"]

"""The baseline grid and filled pages (engine/grid.py): every block of the flow starts on a
line of the body leading, and a page whose flow goes on overleaf ends at the foot."""

import collections
import textwrap

import pdfplumber
import pytest
from conftest import CATALOGUE

from typeset import content, engine, html, render
from typeset.session import Session
from typeset.units import to_mm

PT_PER_MM = 72 / 25.4
TOLERANCE = 0.5  # pt


def grid_of(book):
    """The leading (pt) and the type area's top (pt from the trim's top)."""
    design = book.design
    leading = to_mm(design["body_size"]) * float(design["body_leading"]) * PT_PER_MM
    return leading, to_mm(design["margin_top"]) * PT_PER_MM


def off_grid(value, leading):
    """How far a position is from the nearest line of the grid, in pt."""
    rest = value % leading
    return min(rest, leading - rest)


def line_tops(page, size, font):
    """The top of each line of characters of one size and face (pt from the page's top)."""
    tops = collections.Counter()
    for char in page.chars:
        if abs(char["size"] - size) < 0.05 and font in char["fontname"] and char["text"].strip():
            tops[round(char["top"], 1)] += 1
    return [top for top, count in tops.items() if count >= 2]


def test_the_type_area_is_a_whole_number_of_lines():
    """36 lines of 10.5 pt × 1.8: the foot margin gives up 1 mm of the 24 mm asked for."""
    book = content.load(CATALOGUE)
    tokens = html.design_tokens(book)
    lines = to_mm(tokens["type-height"]) / to_mm(tokens["line"])
    assert abs(lines - round(lines)) < 1e-3 and round(lines) == 36
    assert abs(to_mm(tokens["margin-top"]) + to_mm(tokens["type-height"])
               + to_mm(tokens["margin-bottom"]) - to_mm(book.design["trim_height"])) < 1e-3


def test_running_text_and_subheads_sit_on_the_grid_on_every_page(print_pdf):
    """Every line of body text (10.5 pt serif) and every sub-heading (13 pt sans) of the real
    book, measured from the characters' positions: the distance from the first page's
    grid is a whole number of leadings, ±0.5 pt, on versos and rectos alike."""
    leading, _ = grid_of(content.load(CATALOGUE))
    offsets = {"body": [], "heading": []}
    with pdfplumber.open(print_pdf) as pdf:
        for page in pdf.pages[2:]:
            offsets["body"] += [(page.page_number, top)
                                for top in line_tops(page, 10.5, "Serif-CJK")]
            offsets["heading"] += [(page.page_number, top)
                                   for top in line_tops(page, 13, "Sans-CJK-TC-Bold")]
    assert len(offsets["body"]) > 100 and len(offsets["heading"]) > 10
    for kind, found in offsets.items():
        reference = found[0][1]
        wrong = [(page, round(top, 2), round(off_grid(top - reference, leading), 2))
                 for page, top in found if off_grid(top - reference, leading) > TOLERANCE]
        assert not wrong, f"{kind} lines off the grid (page, top, pt): {wrong[:10]}; pages {sorted({w[0] for w in wrong})}"


FIGURE = """
  - figure:
      image: images/one/photo{n}.jpg
      caption: 第{n}張照片的說明，兩行的說明文字，寫得長一些，讓它換到第二行去，看看它的高度是否也算在格線之內。
"""


@pytest.fixture
def three_photos(small_book):
    """A chapter with a paragraph and three full-width photos: the first fits the first page
    under the title with nine lines left, the other two go overleaf."""
    small_book.write("one.yaml", textwrap.dedent("""
        id: one
        number: 一
        title: 第一章
        blocks:
          - paragraph: 貧困是人類社會的頑疾。反貧困始終是古今中外治國安邦的一件大事。
        """).lstrip() + "".join(FIGURE.format(n=n) for n in range(3)))
    small_book.book["chapters"][1]["folio"] = 5
    small_book.write_book()
    return small_book


def laid_out(small_book, **production):
    if production:
        small_book.book["production"] = production
        small_book.write_book()
    book = content.load(small_book.catalogue)
    session = Session()
    source = html.book_html(book, collections.defaultdict(lambda: None))
    document, warnings = render.lay_out(book, session, source,
                                        html.tokens_css(book, first_page_number=1))
    assert not warnings
    return book, document


def test_a_page_whose_chapter_goes_on_is_filled_to_the_foot(three_photos):
    """Nine lines are left under the first photo: with room to grow it and to open the gap
    above it, the page ends within a line of the foot."""
    book, document = laid_out(three_photos, fill_grow=100, fill_spread=2)
    leading, _ = grid_of(book)
    type_height = to_mm(html.design_tokens(book)["type-height"]) * PT_PER_MM
    pages = engine.facts.read(document.pages)
    chapter = [page for page in pages if page.slots]
    assert len(chapter) == 2  # a photo, then two overleaf: the chapter's last page
    assert chapter[0].filled > 1 - leading / type_height  # within a line of the foot


def test_filling_grows_photos_by_at_most_the_token(three_photos):
    """The photos on a filled page grow by at most `fill_grow`; with 0 and no spreading the
    page ends where the layout left it."""
    book, document = laid_out(three_photos, fill_grow=0, fill_spread=0)
    still = engine.facts.read(document.pages)
    heights = slot_heights(document)
    book, document = laid_out(three_photos, fill_grow=25, fill_spread=0)
    grown = slot_heights(document)
    filled = engine.facts.read(document.pages)
    first = next(index for index, page in enumerate(filled) if page.slots)
    assert still[first].filled < filled[first].filled < 1
    assert grown[0] > heights[0] and grown[0] <= heights[0] * 1.25 + 0.01
    assert grown[1:] == heights[1:]  # the chapter's last page: as laid out


def slot_heights(document):
    from typeset.engine import grid
    return [round(box.padding_height(), 2) for page in document.pages
            for box in grid._boxes(page._page_box) if grid._is_slot(box)]


PLATE = """
id: one
number: 一
title: 第一章
blocks:
  - paragraph: 貧困是人類社會的頑疾。
  - pagebreak: page
  - figure:
      image: images/one/plate.jpg
      caption: 一張照片獨佔一頁：它的說明。
      shape: {shape}
  - pagebreak: page
  - paragraph: 反貧困始終是古今中外治國安邦的一件大事。
"""


def plate_page(small_book, shape, photo=None):
    """Build a chapter whose second page holds one photo alone; its screen PDF's page 2 and
    the type area's top and foot (pt)."""
    small_book.write("one.yaml", PLATE.format(shape=shape))
    small_book.book["chapters"][1]["folio"] = 5
    small_book.write_book()
    if photo:
        (small_book.images / "one").mkdir(exist_ok=True)
        photo(small_book.images / "one" / "plate.jpg")
    result = small_book.build(strict=False)
    book = content.load(small_book.catalogue)
    tokens = html.design_tokens(book)
    top = to_mm(tokens["margin-top"]) * PT_PER_MM
    return result, (top, top + to_mm(tokens["type-height"]) * PT_PER_MM)


def test_a_photo_alone_on_a_page_is_a_plate_at_its_optical_centre(small_book):
    """One photo and its caption alone on a page are not left at its head: the block moves
    down by two fifths of the room (in whole lines), and the page is not named as stopping
    short, while the page of text before the break is."""
    result, (top, bottom) = plate_page(small_book, "landscape")
    leading, _ = grid_of(content.load(small_book.catalogue))
    with pdfplumber.open(result.paths["screen"]) as pdf:
        page = pdf.pages[[i for i, p in enumerate(pdf.pages)
                          if "plate.jpg" in (p.extract_text() or "")][0]]
        slot = max(page.rects, key=lambda r: r["width"] * r["height"])
        caption = max(c["bottom"] for c in page.chars if c["text"] in "說明")
    above, below = slot["top"] - top, bottom - caption
    room = above + below
    assert 0.4 * room - 2 * leading <= above <= 0.4 * room + leading, (above, below)
    assert off_grid(slot["top"] - top, leading) < TOLERANCE
    underfull = [f.where for f in result.findings if f.kind == "underfull"]
    assert underfull == [f for f in underfull if f.startswith("folio 01")] and underfull


def test_a_page_slot_takes_a_landscape_photo_whole(small_book):
    """`shape: page` fills the page with a portrait photo; given a landscape one (here stored
    on its side, EXIF orientation 6) it takes the photo's proportion at the measure instead of
    cropping half of it away."""
    from typeset import samples
    for size, turn, whole in (((1600, 1200), 6, True), ((1200, 1600), 1, False)):
        result, (top, bottom) = plate_page(
            small_book, "page", lambda p: samples.camera_jpeg(p, size, orientation=turn))
        with pdfplumber.open(result.paths["screen"]) as pdf:
            [image] = [im for p in pdf.pages for im in p.images]
        width, height = image["x1"] - image["x0"], image["bottom"] - image["top"]
        if whole:  # drawn whole, at the measure, 4:3
            assert abs(width / height - 4 / 3) < 0.01 and height < 0.7 * (bottom - top)
        else:      # a portrait photo fills the page slot
            assert height > 0.85 * (bottom - top)

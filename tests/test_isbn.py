"""The ISBN: validation, the stamped barcode decodes to it, re-stamping touches only the
colophon and the metadata, and builds are byte-reproducible."""

import shutil

import pikepdf
import pypdfium2
import pytest
from pypdf import PdfReader

from conftest import CATALOGUE
from typeset import cli, content, isbn, postprocess
from typeset.errors import ContentError
from typeset.session import Session

L_CODES = ["0001101", "0011001", "0010011", "0111101", "0100011",
           "0110001", "0101111", "0111011", "0110111", "0001011"]
G_CODES = [code[::-1].translate(str.maketrans("01", "10")) for code in L_CODES]
R_CODES = [code.translate(str.maketrans("01", "10")) for code in L_CODES]
PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
          "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]


def decode_ean13(bits):
    """The 13 digits of 95 EAN-13 modules (1 = bar)."""
    assert bits[:3] == "101" and bits[45:50] == "01010" and bits[92:] == "101", bits
    left, right = bits[3:45], bits[50:92]
    digits, parity = [], ""
    for i in range(6):
        code = left[7 * i:7 * i + 7]
        if code in L_CODES:
            digits.append(L_CODES.index(code))
            parity += "L"
        else:
            digits.append(G_CODES.index(code))
            parity += "G"
    digits += [R_CODES.index(right[7 * i:7 * i + 7]) for i in range(6)]
    return str(PARITY.index(parity)) + "".join(map(str, digits))


def bar_row(image, step):
    """(y, row) of the lowest pixel row of a greyscale image that crosses exactly the 30 bars
    of an EAN-13 (row: whether each pixel is black — the bars, not a dark background)."""
    pixels = image.load()
    for y in range(image.height - 1, 0, -step):
        row = [pixels[x, y] < 40 for x in range(image.width)]
        if sum(1 for a, b in zip([False] + row, row) if b and not a) == 30:
            return y, row
    raise AssertionError("no row crosses exactly 30 bars: no EAN-13 on the page")


def barcode_bits(pdf_path, page_index, dpi=600):
    """Render the page and read the 95 modules along a row that crosses the 30 bars of an
    EAN-13 and nothing else."""
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    image = pdf[page_index].render(scale=dpi / 72).to_pil().convert("L")
    width = image.width
    _, row = bar_row(image, step=4)
    first, last = row.index(True), width - 1 - row[::-1].index(True)
    module = (last - first + 1) / 95
    bits = "".join("1" if row[int(first + (i + 0.5) * module)] else "0" for i in range(95))
    return bits, module * 25.4 / dpi


def test_a_wrong_check_digit_names_the_expected_one(small_book):
    small_book.book["isbn"] = "978-99965-1-234-5"
    small_book.write_book()
    with pytest.raises(ContentError) as caught:
        content.load(small_book.catalogue)
    assert caught.value.file.name == "book.yaml" and caught.value.line > 0
    assert "the check digit is 5, expected 6" in str(caught.value)


def test_isbn10_becomes_isbn13_hyphenated():
    number = isbn.parse("0-306-40615-2")
    assert (number.digits, number.hyphenated) == ("9780306406157", "978-0-306-40615-7")


def test_the_stamped_barcode_decodes_to_the_isbn(catalogue_build):
    book = content.load(CATALOGUE)
    colophon = catalogue_build.manifest.stamp_page
    for edition in ("print", "screen"):
        bits, module_mm = barcode_bits(catalogue_build.paths[edition], colophon)
        assert decode_ean13(bits) == book.isbn.digits
        assert module_mm == pytest.approx(isbn.MODULE_MM, rel=0.03)
    text = PdfReader(catalogue_build.paths["print"]).pages[colophon].extract_text()
    assert f"ISBN {book.isbn.hyphenated}" in text
    assert book.isbn.human_readable.replace(" ", "") in "".join(text.split())


@pytest.fixture
def book_with_colophon(small_book):
    small_book.book["isbn"] = "978-99965-1-234-6"
    small_book.book["production"] = {"cover": "separate"}  # the barcode is on the cover too
    small_book.write_book()
    small_book.write("two.yaml", """
        id: two
        number: 二
        title: 第二章
        blocks:
          - paragraph: 第二章的文字。
          - colophon:
              title: 思源同心 攜手圓夢
              credits: [{role: 主辦單位, text: 澳門特別行政區政府}]
        """)
    return small_book


def streams(pdf_path):
    """Each page's drawing: its content stream and its form XObjects' (the ISBN stamp is one)."""
    drawn = []
    for page in PdfReader(pdf_path).pages:
        forms = page.get("/Resources", {}).get("/XObject", {})
        contents = page.get_contents()  # None on a blank page (the binding's padding)
        drawn.append((contents.get_data() if contents else b"", tuple(
            forms[name].get_object().get_data() for name in sorted(forms)
            if forms[name].get_object().get("/Subtype") == "/Form")))
    return drawn


def test_restamp_changes_only_the_colophon_and_metadata(book_with_colophon):
    result = book_with_colophon.build()
    before = {edition: streams(path) for edition, path in result.paths.items()}
    assert cli.main(["isbn", "--set", "978-0-306-40615-7", "--catalogue",
                     str(book_with_colophon.catalogue), "--out",
                     str(book_with_colophon.out)]) == 0
    colophon = result.manifest.stamp_page
    for edition in ("print", "screen"):
        path = result.paths[edition]
        after = streams(path)
        changed = [i for i, (a, b) in enumerate(zip(before[edition], after)) if a != b]
        assert changed == [colophon]
        assert decode_ean13(barcode_bits(path, colophon)[0]) == "9780306406157"
        assert PdfReader(path).metadata["/ISBN"] == "978-0-306-40615-7"
    # The back cover carries the barcode too.
    assert decode_ean13(barcode_bits(result.paths["cover"], 0)[0]) == "9780306406157"
    assert "isbn: 978-0-306-40615-7" in (book_with_colophon.catalogue / "book.yaml").read_text()


def test_restamp_is_idempotent(book_with_colophon):
    paths = book_with_colophon.build().paths
    book = content.load(book_with_colophon.catalogue)
    postprocess.restamp(book, book_with_colophon.out, Session())
    once = {edition: path.read_bytes() for edition, path in paths.items()}
    postprocess.restamp(book, book_with_colophon.out, Session())
    assert {edition: path.read_bytes() for edition, path in paths.items()} == once


def test_two_builds_are_byte_identical(book_with_colophon, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1625097600")
    first = {e: p.read_bytes() for e, p in book_with_colophon.build().paths.items()}
    shutil.rmtree(book_with_colophon.out)
    second = {e: p.read_bytes() for e, p in book_with_colophon.build().paths.items()}
    assert first == second


def test_xmp_and_info_agree(book_with_colophon, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1625097600")
    reader = PdfReader(book_with_colophon.build().paths["screen"])
    xmp, info = reader.xmp_metadata, reader.metadata
    assert xmp.dc_title["x-default"] == info.title
    assert xmp.dc_creator == info.author.split("、")
    assert xmp.dc_language == ["zh-Hant"] and xmp.dc_identifier == "urn:isbn:9789996512346"
    assert info["/CreationDate"] == "D:20210701000000Z"
    assert xmp.xmp_create_date.isoformat().startswith("2021-07-01T00:00:00")


def test_the_barcode_is_in_the_lower_right_quarter_of_the_back_cover(catalogue_build):
    """Chinese, Hong Kong and Macau practice: the EAN-13 at the lower right of the back cover
    (by the spine). Found as a row crossing its 30 bars inside the back cover's trim."""
    path = catalogue_build.paths["cover"]
    page = pypdfium2.PdfDocument(str(path))[0]
    dpi = 300  # a module of the bars is 0.33 mm: 4 pixels
    image = page.render(scale=dpi / 72).to_pil().convert("L")
    with pikepdf.open(path) as pdf:
        trim = [float(v) * dpi / 72 for v in pdf.pages[0].TrimBox]
    height = image.height
    left, top, bottom = trim[0], height - trim[3], height - trim[1]
    back_width = float(content.load(CATALOGUE).design["trim_width"][:-2]) / 25.4 * dpi
    back = image.crop((round(left), round(top), round(left + back_width), round(bottom)))
    y, row = bar_row(back, step=2)
    middle_x, middle_y = (row.index(True) + back.width - row[::-1].index(True)) / 2, y
    box = (row.index(True), y)
    assert middle_x > back.width / 2 and middle_y > back.height / 2, (box, back.size)

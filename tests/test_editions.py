"""The print and screen editions, the cover and the imposed sheets, read back from the PDFs."""

import math
import re
import shutil
import subprocess

import pdfplumber
import pytest
from PIL import Image
from pypdf import PdfReader

from typeset import press

MM = 72 / 25.4
BLEED = 3 * MM


def boxes(page):
    return {name: [float(v) for v in getattr(page, name)]
            for name in ("mediabox", "bleedbox", "trimbox")}


def test_print_pages_have_trim_inside_bleed_and_an_output_intent(print_pdf):
    reader = PdfReader(print_pdf)
    for page in reader.pages:
        box = boxes(page)
        trim, bleed, media = box["trimbox"], box["bleedbox"], box["mediabox"]
        assert [t - b for t, b in zip(trim[:2], bleed[:2])] == pytest.approx([BLEED] * 2, abs=0.01)
        assert [b - t for t, b in zip(trim[2:], bleed[2:])] == pytest.approx([BLEED] * 2, abs=0.01)
        assert media[0] < bleed[0] and media[3] > bleed[3]  # the slug holds the marks
    root = reader.trailer["/Root"]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFX" and intent["/DestOutputProfile"].get_object()["/N"] == 4
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4<" in root["/Metadata"].get_object().get_data()
    assert float(reader.pdf_header[-3:]) >= 1.6


def test_marks_are_in_registration_colour_outside_the_bleed(print_pdf):
    page = PdfReader(print_pdf).pages[10]
    spaces = page["/Resources"]["/ColorSpace"]
    registration = [cs.get_object() for cs in spaces.values()
                    if cs.get_object()[0] == "/Separation"]
    assert registration and registration[0][1] == "/All"
    data = page.get_contents().get_data().decode("latin-1")
    trim = boxes(page)["trimbox"]
    lines = [tuple(map(float, m)) for m in re.findall(
        r"(-?[\d.]+) (-?[\d.]+) m\s+(-?[\d.]+) (-?[\d.]+) l", data)]
    # The crop mark at the bottom-left corner: from the offset (3 mm) to offset + length
    # (8 mm) left of the trim, on the trim line: outside the 3 mm bleed.
    expected = (trim[0] - 3 * MM, trim[1], trim[0] - 8 * MM, trim[1])
    assert any(all(abs(a - b) < 0.01 for a, b in zip(line, expected)) for line in lines)
    assert re.search(r"/Registration CS\s+1 SCN\s+0\.25 w", data)


def test_screen_pdf_is_tagged_trimmed_with_outline_and_labels(screen_pdf):
    reader = PdfReader(screen_pdf)
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "zh-Hant" and "/OutputIntents" not in root
    assert len(reader.outline) > 0 and reader.page_labels[2] == "01"
    for page in reader.pages:
        box = boxes(page)
        assert box["mediabox"] == box["trimbox"] == box["bleedbox"]


def test_the_contents_page_links_to_the_chapters(screen_pdf, catalogue_build):
    reader = PdfReader(screen_pdf)
    contents = reader.pages[catalogue_build.manifest.front_pages - 1]
    links = [a.get_object() for a in contents.get("/Annots", []) if a.get_object()["/Subtype"] == "/Link"]
    assert len(links) >= len(catalogue_build.manifest.entries)


def test_imposed_sheets_pair_the_pages_for_saddle_stitch(catalogue_build):
    pages = len(PdfReader(catalogue_build.paths["print"]).pages)
    assert pages % 4 == 0
    pairs = press.printer_spreads(pages)
    assert pairs[0] == (pages - 1, 0) and pairs[1] == (1, pages - 2)
    assert sorted(p for pair in pairs for p in pair) == list(range(pages))
    assert all(left + right == pages - 1 for left, right in pairs)
    imposed = PdfReader(catalogue_build.paths["imposed"])
    assert len(imposed.pages) == pages // 2
    # One copy of the shared fonts, not one per sheet.
    assert catalogue_build.paths["imposed"].stat().st_size < 1.5 * catalogue_build.paths[
        "print"].stat().st_size
    trim = PdfReader(catalogue_build.paths["print"]).pages[0].trimbox
    assert float(imposed.pages[0].mediabox.width) == pytest.approx(2 * float(trim.width))
    # The colophon (last page) is printed on the first sheet, left, beside the cover.
    colophon_text = PdfReader(catalogue_build.paths["print"]).pages[pages - 1].extract_text()
    assert "".join(colophon_text.split())[:8] in "".join(imposed.pages[0].extract_text().split())


@pytest.mark.parametrize("pages", [48, 104])
def test_cover_width_is_two_trims_spine_and_bleed(pages, small_book):
    from typeset import content, documents
    from typeset.session import Session
    from typeset.units import to_mm
    book = content.load(small_book.catalogue)
    page = PdfReader(__import__("io").BytesIO(documents.cover(book, pages, Session()))).pages[0]
    trim_width = to_mm(book.design["trim_width"])
    spine = pages / 2 * to_mm(book.production["caliper"])
    width_mm = float(page.mediabox.width) / MM
    assert width_mm == pytest.approx(2 * trim_width + spine + 2 * 3, abs=0.05)
    assert float(page.trimbox.width) / MM == pytest.approx(2 * trim_width + spine, abs=0.05)


def test_binding_needs_pages_and_pad_adds_them(small_book):
    small_book.write("one.yaml", "id: one\nnumber: 一\ntitle: 第一章\nblocks:\n"
                                 "  - paragraph: 第一頁。\n  - pagebreak: {}\n"
                                 "  - paragraph: 第二頁。\n  - pagebreak: {}\n"
                                 "  - paragraph: 第三頁。\n")
    unpadded = small_book.build(strict=False, pad=False)
    binding = [f for f in unpadded.findings if f.kind == "binding"]
    pages = unpadded.manifest.page_count
    assert binding and f"add {-pages % 4} page" in binding[0].message
    padded = small_book.build(strict=False, pad=True)
    assert len(PdfReader(padded.paths["print"]).pages) % 4 == 0
    assert not [f for f in padded.findings if f.kind == "binding"]


def test_photos_downsampled_on_screen_and_low_resolution_warned(small_book):
    folder = small_book.images / "one"
    folder.mkdir()
    Image.effect_noise((2400, 1600), 40).convert("RGB").save(folder / "photo.jpg", quality=92)
    small_book.write("two.yaml", """
        id: two
        number: 二
        title: 第二章
        blocks:
          - figure: {image: images/two/small.jpg, caption: 一張小照片。}
        """)
    (small_book.images / "two").mkdir()
    Image.new("RGB", (300, 200), (90, 120, 60)).save(small_book.images / "two" / "small.jpg")
    result = small_book.build(strict=False)
    sizes = {edition: path.stat().st_size for edition, path in result.paths.items()}
    assert sizes["screen"] < sizes["print"] / 2
    low = [f for f in result.findings if f.kind == "low-resolution"]
    assert len(low) == 1 and "small.jpg" in low[0].message and "dpi" in low[0].message
    # The print edition embeds the JPEG as it came (no recompression); the screen's is smaller.
    original = (folder / "photo.jpg").read_bytes()

    def jpegs(path):
        return [xobject.get_object() for page in PdfReader(path).pages
                for xobject in page["/Resources"].get("/XObject", {}).values()
                if xobject.get_object().get("/Filter") == "/DCTDecode"]

    assert any(image._data == original for image in jpegs(result.paths["print"]))
    # Placed at the type-area width (163 mm) at the screen's 150 dpi: about 963 px wide.
    widths = [image["/Width"] for image in jpegs(result.paths["screen"])]
    assert widths and all(width <= math.ceil(163 / 25.4 * 150) + 1 for width in widths)
    # A warm build (resized photos from the cache) writes the same bytes as the cold one.
    cold = result.paths["screen"].read_bytes()
    assert small_book.build(strict=False).paths["screen"].read_bytes() == cold


@pytest.mark.skipif(not shutil.which("qpdf"), reason="qpdf is absent (make installs it)")
def test_qpdf_check_passes_on_every_output(catalogue_build):
    for edition, path in catalogue_build.paths.items():
        run = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert run.returncode == 0, (edition, run.stdout[-500:], run.stderr[-500:])


def test_what_a_slot_crops_away_is_flattened_on_screen(tmp_path):
    """A 3:2 photo in a tall slot shows about half its width: the screen copy keeps real pixels
    there (and a margin) and one flat colour outside, which costs JPEG almost nothing."""
    from typeset import screen
    photo = tmp_path / "photo.jpg"
    Image.effect_noise((2400, 1600), 60).convert("RGB").save(photo, "JPEG", quality=92)

    def copy(window):
        job = screen.Job(str(photo), "x", (1200, 800), window, 78, "unused")
        return screen.make(job)[2]

    whole, cropped = copy((0, 0, 1, 1)), copy((0.25, 0, 0.75, 1))
    assert len(cropped) < 0.65 * len(whole)
    with Image.open(__import__("io").BytesIO(cropped)) as image:
        grey = image.convert("L")
        width, height = grey.size

        def spread(left, right):
            low, high = grey.crop((left, 0, right, height)).getextrema()
            return high - low

        margin = screen.CROP_MARGIN
        assert spread(0, width // 4 - margin - 8) < 12  # outside: flat (JPEG noise only)
        assert spread(width - width // 4 + margin + 8, width) < 12
        assert spread(width // 4 + 4, width * 3 // 4 - 4) > 60  # the visible half: the photo


def test_a_full_bleed_photo_fills_its_page_to_the_bleed_edge(small_book):
    """shape: bleed — the photo covers the page and the bleed around it, on a page without
    folio, with its caption; it is no overflow."""
    one = (small_book.catalogue / "one.yaml").read_text(encoding="utf-8")
    small_book.write("one.yaml", one.replace("      caption: 一張照片的說明。\n",
                                             "      caption: 一張滿版照片的說明。\n"
                                             "      shape: bleed\n"))
    folder = small_book.images / "one"
    folder.mkdir()
    Image.effect_noise((3000, 4000), 40).convert("RGB").save(folder / "photo.jpg", quality=85)
    result = small_book.build(strict=False)
    assert not [f for f in result.findings if f.kind == "overflow"]
    index = result.manifest.front_pages + 1  # folio 02: the page after the chapter's first
    with pdfplumber.open(result.paths["print"]) as pdf:
        page = pdf.pages[index]
        images = page.images
        assert len(images) == 1
        reader_page = PdfReader(result.paths["print"]).pages[index]
        bleed = [float(v) for v in reader_page.bleedbox]
        height = float(reader_page.mediabox.height)
        photo = images[0]
        # pdfplumber measures from the top of the MediaBox; the bleed box is in PDF space.
        assert photo["x0"] <= bleed[0] + 0.5 and photo["x1"] >= bleed[2] - 0.5
        assert photo["top"] <= height - bleed[3] + 0.5 and photo["bottom"] >= height - bleed[1] - 0.5
        text = page.extract_text()
        assert "一張滿版照片的說明" in "".join(text.split()) and "02" not in text

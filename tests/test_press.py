"""The press files in the press's colours, as the field's tools see them: veraPDF's PDF/X
colour rules (its PDF/A-4 clauses 6.2.4.3, 6.2.9 and 6.2.10), no DeviceRGB anywhere, body text
on the black plate alone and no page over max_ink in Ghostscript's separations, the PDF/X-4
keys in Info and XMP, the cover's marks outside its trim."""

import shutil
import subprocess

import pdfplumber
import pikepdf
import pytest
from PIL import Image

from typeset import checks, preflight, samples
from conftest import CATALOGUE, SmallBook
from validators import verapdf

PRESS = ("print", "cover", "imposed")
COLOUR_CLAUSES = ("6.2.4.3", "6.2.9", "6.2.10")


@pytest.fixture(scope="module")
def photo_build(tmp_path_factory):
    """The small book with an RGB camera photo, a CMYK scan and a greyscale letter."""
    book = SmallBook(tmp_path_factory.mktemp("press"))
    book.book["production"] = {"cover": "separate"}  # the cover PDF, as the catalogue has
    book.write_book()
    (book.images / "one").mkdir()
    samples.camera_jpeg(book.images / "one" / "photo.jpg", (1600, 1200), seed=1)
    samples.cmyk_jpeg(book.images / "one" / "scan.jpg", (800, 600), seed=2)
    samples.grey_jpeg(book.images / "one" / "letter.jpg", (600, 800), seed=3)
    book.write("one.yaml", """
        id: one
        number: 一
        title: 第一章
        blocks:
          - paragraph: 貧困是人類社會的頑疾。反貧困始終是古今中外治國安邦的一件大事。
          - figure:
              image: images/one/photo.jpg
              caption: 一張照片的說明。
          - figure:
              image: images/one/scan.jpg
              caption: 一份剪報。
              size: half
          - figure:
              image: images/one/letter.jpg
              caption: 一封信。
              size: half
        """)
    return book, book.build()


def device_rgb(path):
    """Every use of DeviceRGB in a PDF: colour operators, colour spaces set, images."""
    found = []
    with pikepdf.open(path) as pdf:
        seen = set()

        def visit(holder, resources, where):
            for operands, operator in pikepdf.parse_content_stream(holder):
                op = str(operator)
                if op in ("rg", "RG"):
                    found.append((where, op))
                elif op in ("cs", "CS") and str(operands[0]) == "/DeviceRGB":
                    found.append((where, op))
                elif op == "Do":
                    xobject = resources.get("/XObject", {}).get(operands[0])
                    if xobject is None or xobject.objgen in seen:
                        continue
                    seen.add(xobject.objgen)
                    if xobject.get("/ColorSpace") == "/DeviceRGB":
                        found.append((where, "image"))
                    if xobject.get("/Subtype") == "/Form":
                        visit(xobject, xobject.get("/Resources", resources), where)

        for index, page in enumerate(pdf.pages):
            visit(page, page.obj.get("/Resources", {}), index)
    return found


@pytest.mark.parametrize("output", PRESS)
def test_no_device_rgb_in_the_press_files(catalogue_build, photo_build, output):
    assert device_rgb(catalogue_build.paths[output]) == []
    assert device_rgb(photo_build[1].paths[output]) == []


def test_the_screen_edition_stays_in_rgb(catalogue_build):
    """Its look is unchanged: drawn in the tokens' sRGB, not the press's inks."""
    assert device_rgb(catalogue_build.paths["screen"])  # rg, as laid out
    with pikepdf.open(catalogue_build.paths["screen"]) as pdf:
        ops = {str(op) for page in pdf.pages[:12] for _, op in pikepdf.parse_content_stream(page)}
    assert "k" not in ops and "K" not in ops


def test_rgb_photos_carry_their_profile_and_cmyk_ones_pass_through(photo_build):
    book, result = photo_build
    with pikepdf.open(result.paths["print"]) as pdf:
        images = {len(obj.read_raw_bytes()): obj for obj in pdf.objects
                  if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"}
        photo = images[(book.images / "one" / "photo.jpg").stat().st_size]
        space = photo.ColorSpace
        assert space[0] == "/ICCBased" and int(space[1].N) == 3
        with Image.open(book.images / "one" / "photo.jpg") as original:
            assert space[1].read_bytes() == original.info["icc_profile"]
        assert images[(book.images / "one" / "scan.jpg").stat().st_size].ColorSpace == \
            "/DeviceCMYK"


@pytest.mark.parametrize("output", ["print", "imposed"])
def test_no_photo_in_the_press_files_is_interpolated(photo_build, output):
    """PDF/X forbids `/Interpolate true` on images; the screen edition keeps WeasyPrint's."""
    def interpolated(path):
        with pikepdf.open(path) as pdf:
            found = [obj.get("/Interpolate") for obj in pdf.objects
                     if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]
        assert found
        return {bool(value) for value in found if value is not None}
    assert interpolated(photo_build[1].paths[output]) <= {False}
    assert True in interpolated(photo_build[1].paths["screen"])


@pytest.mark.parametrize("output", PRESS)
def test_verapdf_finds_no_colour_or_transparency_failure(photo_build, output):
    """veraPDF has no PDF/X profile; its PDF/A-4 clauses 6.2.4.3 (device colour spaces
    against the output intent), 6.2.9 and 6.2.10 (transparency blending spaces) state PDF/X-4's
    colour rules. The other PDF/A-4 clauses (identification, PDF 2.0 header, Info) do not
    apply to a PDF/X file."""
    _, failed = verapdf(photo_build[1].paths[output], "4")
    colour = {rule: checks for rule, checks in failed.items()
              if any(f":{clause}-" in rule for clause in COLOUR_CLAUSES)}
    assert colour == {}, colour


def test_the_real_book_passes_the_colour_clauses_too(catalogue_build):
    _, failed = verapdf(catalogue_build.paths["print"], "4")
    assert not [rule for rule in failed if any(f":{clause}-" in rule
                                               for clause in COLOUR_CLAUSES)], failed


@pytest.mark.parametrize("output", PRESS)
def test_pdfx4_metadata_in_info_and_xmp(photo_build, output):
    with pikepdf.open(photo_build[1].paths[output]) as pdf:
        info = pdf.docinfo
        assert str(info["/GTS_PDFXVersion"]) == "PDF/X-4" and info["/Trapped"] == "/False"
        metadata = pdf.Root.Metadata
        assert metadata.Type == "/Metadata" and metadata.Subtype == "/XML"
        xmp = metadata.read_bytes().decode("utf-8")
        for key in ("xmpMM:DocumentID>uuid:", "xmpMM:VersionID>", "xmpMM:RenditionClass>default",
                    "pdf:Trapped>False", "pdfxid:GTS_PDFXVersion>PDF/X-4"):
            assert key in xmp, key
        intents = {str(intent.S): intent for intent in pdf.Root.OutputIntents}
        assert set(intents) == {"/GTS_PDFX", "/GTS_PDFA1"}
        assert intents["/GTS_PDFX"].DestOutputProfile.objgen == \
            intents["/GTS_PDFA1"].DestOutputProfile.objgen
        assert str(intents["/GTS_PDFX"].OutputConditionIdentifier) == "Custom"  # a stand-in
        for page in pdf.pages:
            assert "/TrimBox" in page.obj and "/BleedBox" in page.obj


def test_a_stand_in_profile_is_said_once(catalogue_build):
    said = [f for f in catalogue_build.findings if f.kind == "output-intent"]
    assert len(said) == 1 and said[0].level == "warning" and "stand-in" in said[0].message


# ------------------------------------------------------------------ Ghostscript's separations

@pytest.fixture(scope="module")
def separations(tmp_path_factory):
    """The real catalogue with a few photos (an RGB photo, a CMYK scan), built and separated
    by Ghostscript (tiffsep, 40 dpi): page index → {plate: ink 0…1 per pixel, as an image}."""
    if not shutil.which("gs"):
        pytest.skip("Ghostscript is absent (make installs it)")
    root = tmp_path_factory.mktemp("separated")
    shutil.copytree(CATALOGUE, root / "catalogue")
    shutil.copytree(CATALOGUE.parent / "images", root / "images")
    for folder in ("preface", "media"):
        (root / "images" / folder).mkdir(exist_ok=True)
    samples.camera_jpeg(root / "images" / "preface" /
                        "2021-02-25-xi-jinping-meets-poverty-alleviation-models.jpg",
                        (2000, 1500), seed=4)
    samples.cmyk_jpeg(root / "images" / "media" / "2019-11-04-macao-daily-3.jpg", (800, 1000),
                      seed=5)
    from typeset.build import build
    result = build(root / "catalogue", root / "build", pad=True, progress=lambda line: None)
    plates = root / "plates"
    plates.mkdir()
    subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=tiffsep", "-r40",
                    f"-sOutputFile={plates}/p%03d.tif", str(result.paths["print"])],
                   check=True, capture_output=True, timeout=600)
    return result, plates


def plate(plates, page_index, name):
    return Image.open(plates / f"p{page_index + 1:03d}({name}).tif")


def test_body_text_is_on_the_black_plate_alone(separations):
    result, plates = separations
    with pdfplumber.open(result.paths["print"]) as pdf:
        for page_index, page in enumerate(pdf.pages):  # the first page of body text
            chars = [c for c in page.chars if abs(c["size"] - 10.5) < 0.3
                     and "Serif" in c["fontname"] and "\u4e00" <= c["text"] <= "\u9fff"]
            if page_index >= result.manifest.front_pages and len(chars) > 200:
                break
        scale = 40 / 72
        x0, top = page.bbox[0], page.bbox[1]
    inked = {name: plate(plates, page_index, name) for name in ("Cyan", "Magenta", "Yellow",
                                                                  "Black")}
    black = 0
    for char in chars:
        box = tuple(round(v) for v in ((char["x0"] - x0) * scale, (char["top"] - top) * scale,
                                       (char["x1"] - x0) * scale, (char["bottom"] - top) * scale))
        for name in ("Cyan", "Magenta", "Yellow"):
            assert inked[name].crop(box).getextrema()[0] == 255, (name, char["text"])
        black += inked["Black"].crop(box).getextrema()[0] < 200
    assert black > 0.9 * len(chars)


def test_no_page_lays_more_ink_than_max_ink(separations):
    result, plates = separations
    limit = 300
    with pikepdf.open(result.paths["print"]) as pdf:
        pages = list(pdf.pages)
        boxes = [([float(v) for v in page.obj.TrimBox], [float(v) for v in page.obj.MediaBox])
                 for page in pages]
    worst = 0
    for index, (trim, media) in enumerate(boxes):
        scale = 40 / 72
        left, bottom = (trim[0] - media[0]) * scale, (media[3] - trim[3]) * scale
        box = (round(left) + 1, round(bottom) + 1, round(left + (trim[2] - trim[0]) * scale) - 1,
               round(bottom + (trim[3] - trim[1]) * scale) - 1)
        inks = [plate(plates, index, name).crop(box).tobytes()
                for name in ("Cyan", "Magenta", "Yellow", "Black")]
        coverage = max(sum(255 - value for value in pixel) for pixel in zip(*inks)) / 2.55
        worst = max(worst, coverage)
        assert coverage <= limit + 1, (index, coverage)
    assert worst > 150  # the red openers and the CMYK scan were seen
    assert not [f for f in result.findings if f.kind == "ink"]


def test_a_rich_black_for_text_is_named_by_the_ink_check(small_book):
    small_book.book["design"]["colours"]["ink"] = {"print": "cmyk(100 100 100 100)",
                                                   "screen": "#231f20"}
    small_book.write_book()
    result = small_book.build(strict=False)
    [finding, *_] = [f for f in result.findings if f.kind == "ink"]
    assert finding.level == "error" and "cmyk(100 100 100 100)" in finding.message
    assert "400% ink, over max_ink (300%)" in finding.message


def test_a_new_process_recalls_what_the_ink_check_read(small_book, monkeypatch):
    """The ink check keeps what it read of each content stream in build/.cache/ink.json: a new
    process (here: the check's memory emptied) finds the same, and an unreadable file is
    read again from the PDFs."""
    small_book.book["design"]["colours"]["ink"] = {"print": "cmyk(100 100 100 100)",
                                                   "screen": "#231f20"}
    small_book.write_book()
    result = small_book.build(strict=False)
    cache = small_book.out / ".cache"
    found = [f for f in result.findings if f.kind == "ink"]
    assert found and (cache / "ink.json").is_file()
    for kept in ("as written", "torn"):
        if kept == "torn":
            (cache / "ink.json").write_text('{"drawn": {"x": ', encoding="utf-8")
        monkeypatch.setattr(checks, "_DRAWN", {})
        monkeypatch.setattr(checks, "_PHOTOS", {})
        checks.recall(cache / "ink.json")
        assert (len(checks._DRAWN) > 0) == (kept == "as written")
        again = [f for f in preflight.outputs(result.book, result.paths, cache)
                 if f.kind == "ink"]
        assert again == found, kept


# ------------------------------------------------------------------ the cover

def test_nothing_meant_not_to_print_is_inside_the_cover_trim(photo_build):
    """The spine's folds are marks outside the trim (in registration colour); no hairline is
    drawn inside the trim."""
    with pikepdf.open(photo_build[1].paths["cover"]) as pdf:
        page = pdf.pages[0]
        x0, y0, x1, y1 = (float(v) for v in page.obj.TrimBox)
        strokes = []
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) in ("m", "l"):
                strokes.append(tuple(float(v) for v in operands))
    inside = [(x, y) for x, y in strokes if x0 < x < x1 and y0 < y < y1]
    assert inside == []
    with pdfplumber.open(photo_build[1].paths["cover"]) as pdf:
        thin = [rect for rect in pdf.pages[0].rects if min(rect["width"], rect["height"]) < 1]
    assert thin == []


def test_a_thin_perfect_bound_spine_carries_no_title_and_says_so(small_book):
    small_book.book["production"] = {"binding": "perfect"}
    small_book.write_book()
    result = small_book.build(strict=False)
    [spine] = [f for f in result.findings if f.kind == "spine"]
    assert spine.level == "warning" and "narrower than spine_text_min (5mm)" in spine.message
    with pdfplumber.open(result.paths["cover"]) as pdf:
        text = pdf.pages[0].extract_text()
    assert text.count(small_book.book["title"]) <= 2  # front and back, not the spine


def test_photos_converted_to_the_press_cmyk_when_the_editor_asks(tmp_path):
    """`photo_colour: convert`: the RGB photo reaches the press in the output profile's CMYK
    (a JPEG of its own, cached), drawn upright and in its colours."""
    from test_photos import drawn_image, seen
    book = SmallBook(tmp_path)
    book.book["production"] = {"photo_colour": "convert"}
    book.write_book()
    (book.images / "one").mkdir()
    samples.camera_jpeg(book.images / "one" / "photo.jpg", (1600, 1200), seed=6, orientation=6)
    result = book.build()
    assert device_rgb(result.paths["print"]) == []
    index = result.manifest.front_pages
    box, stream = drawn_image(result.paths["print"], index)
    assert stream["ColorSpace"].name == "DeviceCMYK" and list(stream["Decode"]) == [1, 0] * 4
    assert samples.is_upright(seen(result.paths["print"], index, box, inset=0.02))
    assert len(list((book.out / ".cache" / "press-images").glob("*.jpg"))) == 1
    again = book.build()  # made once: the cache is read
    assert again.paths["print"].read_bytes() == result.paths["print"].read_bytes()

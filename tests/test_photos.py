"""Photos as they arrive from cameras and scanners (typeset/samples.py makes them): the press
gets the photographer's bytes, the screen gets copies sized to their slots in the right
colours, every format works or is one clear line, and the editor decides what a slot keeps.

One small book holds one photo per page; it is built once for the module and read back from
its PDFs (pikepdf for the streams, pdfplumber for where each image is drawn, pypdfium2 for
what a reader sees)."""

import io
import math
import subprocess
import textwrap

import pdfplumber
import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageCms, ImageStat

from typeset import samples
from typeset.errors import ContentError

from conftest import SmallBook

CMYK_PROFILE = "/usr/share/color/icc/ghostscript/default_cmyk.icc"
TYPE_WIDTH = 44 * 10.5  # pt: the catalogue's measure × body size

# One figure per page: (name, file, how the file is made, extra fields of the figure).
PHOTOS = [
    ("upright", "upright.jpg", lambda p: samples.camera_jpeg(p, (1600, 1200), seed=1), {}),
    ("sideways", "sideways.jpg",
     lambda p: samples.camera_jpeg(p, (1600, 1200), seed=2, orientation=6), {}),
    ("cmyk", "cmyk.jpg", lambda p: samples.cmyk_jpeg(p, (800, 600), seed=3), {}),
    ("ycck", "ycck.jpg", lambda p: samples.ycck_jpeg(p, (800, 600), seed=4), {}),
    ("grey", "grey.jpg", lambda p: samples.grey_jpeg(p, (600, 800), seed=5),
     {"shape": "tall", "fit": "contain"}),
    ("png16", "png16.png", lambda p: samples.png16(p, (600, 450), seed=6), {}),
    ("grey16", "grey16.png", lambda p: samples.png16(p, (600, 450), mode="L", seed=7), {}),
    ("contain", "contain.jpg", lambda p: samples.camera_jpeg(p, (1600, 1200), seed=8),
     {"shape": "square", "fit": "contain"}),
    ("top", "portrait.jpg", lambda p: samples.camera_jpeg(p, (900, 1200), seed=9),
     {"focus": "top"}),
    ("progressive", "progressive.jpg",
     lambda p: samples.camera_jpeg(p, (1600, 1200), seed=10, progressive=True), {}),
    ("rgba", "code.png", lambda p: samples.rgba_png(p, (400, 400), seed=11),
     {"shape": "square", "fit": "contain"}),
    ("palette", "chart.png", lambda p: samples.palette_png(p, (600, 400), seed=12), {}),
]
NAMES = [name for name, *_ in PHOTOS]


def photo_book(root):
    book = SmallBook(root)
    book.book["chapters"] = [{"file": "one.yaml"}, {"file": "two.yaml"}]  # no folio plan
    book.write_book()
    (book.images / "one").mkdir()
    blocks = []
    for index, (name, file, make, extra) in enumerate(PHOTOS):
        make(book.images / "one" / file)
        fields = "".join(f"\n      {key}: {value}" for key, value in extra.items())
        if index:
            blocks.append("  - pagebreak: page")
        blocks.append(f"  - figure:\n      image: images/one/{file}\n      caption: {name}"
                      f"{fields}")
    book.write("one.yaml", "id: one\nnumber: 一\ntitle: 第一章\nblocks:\n" + "\n".join(blocks)
               + "\n")
    return book


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    book = photo_book(tmp_path_factory.mktemp("photos"))
    result = book.build()
    return book, result


def page_of(result, name):
    return result.manifest.front_pages + NAMES.index(name)


def drawn_image(pdf_path, page_index):
    """The one image drawn on a page: its bbox in pt (x0, top, x1, bottom) and its stream."""
    with pdfplumber.open(pdf_path) as pdf:
        page = pdf.pages[page_index]
        (image,) = [image for image in page.images]
        return (image["x0"], image["top"], image["x1"], image["bottom"]), image["stream"]


def seen(pdf_path, page_index, box, inset=0.1, scale=2):
    """What a reader sees inside `box` (pt, from the top left), less `inset` of it each side,
    rendered by pdfium."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        page = pdf[page_index]
        bitmap = page.render(scale=scale)
        image = bitmap.to_pil().convert("RGB")
        left, top = page.get_cropbox()[0], page.get_size()[1] - page.get_cropbox()[3]
    finally:
        pdf.close()
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * inset, (y1 - y0) * inset
    crop = [(x0 + dx - left) * scale, (y0 + dy - top) * scale, (x1 - dx - left) * scale,
            (y1 - dy - top) * scale]
    return image.crop(tuple(round(value) for value in crop))


def mean(image):
    return tuple(ImageStat.Stat(image.convert("RGB")).mean)


def close(found, expected, levels):
    return all(abs(a - b) <= levels for a, b in zip(found, expected))


def print_streams(result):
    """Every image stream of the print edition: its raw bytes."""
    with pikepdf.open(result.paths["print"]) as pdf:
        return [obj.read_raw_bytes() for obj in pdf.objects
                if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]


# ------------------------------------------------------------------ the press

@pytest.mark.parametrize("name", ["upright", "sideways", "cmyk", "ycck", "progressive"])
def test_a_jpeg_reaches_the_press_byte_for_byte(built, name):
    """EXIF, ICC profile and quantisation as the camera wrote them: no second generation."""
    book, result = built
    file = book.images / "one" / PHOTOS[NAMES.index(name)][1]
    assert file.read_bytes() in print_streams(result)


def test_a_photo_stored_sideways_prints_upright(built):
    book, result = built
    box, _ = drawn_image(result.paths["print"], page_of(result, "sideways"))
    assert box[2] - box[0] > box[3] - box[1]  # laid out as seen: landscape
    assert samples.is_upright(seen(result.paths["print"], page_of(result, "sideways"), box,
                                   inset=0.02))


def test_no_press_file_carries_a_stand_in_or_its_keys(built):
    _, result = built
    for name in ("print", "imposed", "screen"):
        data = result.paths[name].read_bytes()
        assert b"/TypesetSource" not in data and b"/TypesetPassThrough" not in data, name
        run = subprocess.run(["qpdf", "--check", str(result.paths[name])],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
    with pikepdf.open(result.paths["print"]) as pdf:
        empty = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream)
                 and obj.get("/Subtype") == "/Image" and not obj.read_raw_bytes()]
    assert not empty


def test_a_sixteen_bit_png_prints_its_colour_not_noise(built):
    _, result = built
    for name, expected in (("png16", samples.PNG16_RGB_8BIT),
                           ("grey16", (samples.PNG16_GREY_8BIT,) * 3)):
        box, _ = drawn_image(result.paths["print"], page_of(result, name))
        assert close(mean(seen(result.paths["print"], page_of(result, name), box)),
                     expected, 4), name


# ------------------------------------------------------------------ the screen

def source_colour(file, inset=0.1):
    """The file's mean colour as a colour-managed viewer shows it (CMYK through its profile
    or the press profile; grey as grey), less `inset` of it each side (as `seen`)."""
    with Image.open(file) as image:
        width, height = image.size
        image = image.crop((round(width * inset), round(height * inset),
                            round(width * (1 - inset)), round(height * (1 - inset))))
        if image.mode == "CMYK":
            icc = image.info.get("icc_profile")
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else \
                ImageCms.getOpenProfile(CMYK_PROFILE)
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                              outputMode="RGB")
        elif image.mode.startswith("I"):
            image = image.convert("I").point(lambda value: value / 257).convert("L")
        return mean(image)


@pytest.mark.parametrize("name", ["cmyk", "ycck", "grey", "png16", "grey16"])
def test_the_screen_shows_each_colour_mode_in_its_colours(built, name):
    book, result = built
    file = book.images / "one" / PHOTOS[NAMES.index(name)][1]
    box, _ = drawn_image(result.paths["screen"], page_of(result, name))
    found = mean(seen(result.paths["screen"], page_of(result, name), box))
    assert close(found, source_colour(file), 6), (found, source_colour(file))


def test_grey_stays_grey_and_alpha_stays_on_screen(built):
    _, result = built
    _, grey = drawn_image(result.paths["screen"], page_of(result, "grey"))
    assert grey["ColorSpace"].name == "DeviceGray"
    _, code = drawn_image(result.paths["screen"], page_of(result, "rgba"))
    assert "SMask" in code.attrs


@pytest.mark.parametrize("name", ["upright", "sideways", "cmyk", "contain", "top", "png16"])
def test_each_screen_photo_is_sized_to_its_slot(built, name):
    """150 ppi at the size the whole photo is drawn (its own pixels when it has fewer)."""
    book, result = built
    box, stream = drawn_image(result.paths["screen"], page_of(result, name))
    drawn = (box[2] - box[0]) / 72  # inches
    with Image.open(book.images / "one" / PHOTOS[NAMES.index(name)][1]) as original:
        turn = original.getexif().get(0x0112, 1)
        own = original.size[1 if turn >= 5 else 0]  # its width as seen
    pixels = stream.attrs["Height" if turn >= 5 else "Width"]  # stored turned: seen width
    target = min(own, math.ceil(drawn * 150))
    assert abs(pixels - target) <= 0.1 * target, (pixels, target)


def test_the_screen_edition_is_drawn_upright_too(built):
    _, result = built
    box, _ = drawn_image(result.paths["screen"], page_of(result, "sideways"))
    assert samples.is_upright(seen(result.paths["screen"], page_of(result, "sideways"), box,
                                   inset=0.02))


# ------------------------------------------------------------------ what a slot keeps

def test_fit_contain_shows_the_whole_photo(built):
    _, result = built
    box, _ = drawn_image(result.paths["print"], page_of(result, "contain"))
    width, height = box[2] - box[0], box[3] - box[1]
    assert abs(width - TYPE_WIDTH) < 1 and abs(height - TYPE_WIDTH * 3 / 4) < 1  # 4:3 inside
    assert samples.is_upright(seen(result.paths["print"], page_of(result, "contain"), box,
                                   inset=0.02))


def test_focus_top_keeps_the_top(built):
    """A portrait photo in a landscape slot: the slot shows its top (red and green), not its
    middle (all four quadrants)."""
    _, result = built
    with pdfplumber.open(result.paths["print"]) as pdf:
        page = pdf.pages[page_of(result, "top")]
        image = page.images[0]
        slot_bottom = image["top"] + TYPE_WIDTH * 2 / 3  # the 3:2 slot under the photo's top
    assert abs(image["x1"] - image["x0"] - TYPE_WIDTH) < 1  # drawn full width, cropped below
    assert abs(image["top"] - slot_top(result)) < 1
    half = (image["x1"] - image["x0"]) / 2
    left = seen(result.paths["print"], page_of(result, "top"),
                (image["x0"], image["top"], image["x0"] + half, slot_bottom))
    right = seen(result.paths["print"], page_of(result, "top"),
                 (image["x0"] + half, image["top"], image["x1"], slot_bottom))
    (red, green, blue), (red2, green2, blue2) = mean(left), mean(right)
    assert red > green + 40 and red > blue + 40, mean(left)     # top-left: red
    assert green2 > red2 + 40 and green2 > blue2 + 40, mean(right)  # top-right: green


def slot_top(result):
    """Where the slot of the focus test starts: the top of its figure on the page."""
    with pdfplumber.open(result.paths["print"]) as pdf:
        page = pdf.pages[page_of(result, "top")]
        rects = [rect for rect in page.rects if abs(rect["width"] - TYPE_WIDTH) < 1]
        return min(rect["top"] for rect in rects)


def test_a_cover_crop_of_more_than_a_third_is_named_with_a_shape_that_keeps_it(built):
    _, result = built
    crops = [f for f in result.findings if f.kind == "crop"]
    assert any("images/one/portrait.jpg" in f.message and "shape: tall" in f.message
               and "one.yaml" in f.where for f in crops), crops


# ------------------------------------------------------------------ what the caches hold

def test_no_cache_holds_a_copy_of_a_photo(built):
    """The parts, the layouts and the finished editions kept for the next build refer to the
    photos; only the press files carry their bytes."""
    book, result = built
    chunk = (book.images / "one" / "upright.jpg").read_bytes()[50_000:50_256]
    for path in (book.out / ".cache").rglob("*"):
        if path.is_file():
            assert chunk not in path.read_bytes(), path


def test_a_photo_damaged_inside_its_data_is_one_line_at_its_content_line(tmp_path):
    book = SmallBook(tmp_path)
    (book.images / "one").mkdir()
    photo = book.images / "one" / "photo.jpg"
    samples.camera_jpeg(photo, (800, 600), seed=1)
    data = bytearray(photo.read_bytes())
    table = data.find(b"\xff\xc4")  # a Huffman table with impossible code counts: the
    data[table + 5:table + 21] = bytes([255] * 16)  # headers read, the decoding fails
    photo.write_bytes(bytes(data))
    with pytest.raises(ContentError) as caught:
        book.build()
    message = str(caught.value)
    assert "\n" not in message and "images/one/photo.jpg" in message, message
    assert (caught.value.file.name, caught.value.line) == ("one.yaml", 6)


def test_a_tiff_scan_is_one_line_with_what_to_do(small_book):
    small_book.write("one.yaml", textwrap.dedent("""\
        id: one
        title: 第一章
        blocks:
          - figure:
              image: images/one/scan.tif
              caption: 掃描件
        """))
    with pytest.raises(ContentError, match=r"scan\.tif` is not a JPEG, PNG or SVG file name — "
                                           r"use .*TIFF scan: save it as PNG"):
        small_book.build()


def test_the_location_map_on_folio_09_is_whole(catalogue_build):
    """The map (a drawing with its legend, north arrow and disclaimer at its edges) is shown
    whole in its slot: its frame — the edge of everything it shows, which clips the rest —
    lies inside the slot's ground and spans its width (cropped to fill, the frame ran past
    both sides of the slot and the legend's edge was cut)."""
    page_index = catalogue_build.manifest.front_pages + 9 - 1
    with pdfplumber.open(catalogue_build.paths["print"]) as pdf:
        page = pdf.pages[page_index]
        left, _, right, _ = (float(value) for value in page.page_obj.attrs["TrimBox"])
        inside = [rect for rect in page.rects if left <= rect["x0"] and rect["x1"] <= right]
        slot = max(inside, key=lambda rect: rect["width"] * rect["height"])  # its ground
        assert slot["width"] > 400 and slot["height"] > 500
        frame = max((rect for rect in page.rects if rect is not slot
                     and rect["bottom"] > slot["top"] and rect["top"] < slot["bottom"]),
                    key=lambda rect: rect["width"] * rect["height"])
    assert frame["x0"] >= slot["x0"] - 0.5 and frame["x1"] <= slot["x1"] + 0.5
    assert frame["top"] >= slot["top"] - 0.5 and frame["bottom"] <= slot["bottom"] + 0.5
    assert frame["width"] > 0.95 * slot["width"]

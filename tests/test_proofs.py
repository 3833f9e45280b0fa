"""Proofs: spreads, contact sheet and changed pages, from small PDFs written with WeasyPrint."""

import json

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject
from weasyprint import HTML

from typeset import changes, proofs
from typeset.model import Manifest

DPI = 100
TRIM_MM = (100, 140)
MM = DPI / 25.4                      # px per mm at DPI

# Each page is framed in blue exactly at the trim, with a red bleed around it: a trimmed
# rendering shows blue on all four edges and no red.
CSS = f"""
@page {{ size: {TRIM_MM[0]}mm {TRIM_MM[1]}mm; margin: 0; bleed: 3mm; background: rgb(255, 0, 0) }}
body {{ margin: 0; font-family: "Noto Sans CJK TC"; font-size: 10.5pt; color: black }}
section {{ box-sizing: border-box; width: {TRIM_MM[0]}mm; height: {TRIM_MM[1]}mm; padding: 10mm;
           border: 2mm solid rgb(0, 0, 255); background: white; break-after: page;
           overflow: hidden }}
h1 {{ font-size: 20pt; margin: 0 0 4mm }}
"""
TEXTS = ["第一頁", "第二頁", "第三頁", "第四頁", "第五頁", "第六頁", "第七頁"]
PARAGRAPH = "貧困是人類社會的頑疾。澳門幫扶貴州省從江縣脫貧攻堅，社會各界投入幫扶資金超過一億元。"


def write_pdf(path, pages):
    """A PDF with one trimmed page per HTML fragment in `pages`."""
    body = "".join(f"<section>{page}</section>" for page in pages)
    HTML(string=f"<html lang=zh-Hant><style>{CSS}</style><body>{body}",
         base_url=str(path.parent)).write_pdf(path)
    return path


def text_pages(count, edit=None):
    """`count` pages of text, each with its own heading; `edit` = (index, extra text)."""
    pages = [f"<h1>{title}</h1><p>{PARAGRAPH}</p>" for title in TEXTS[:count]]
    if edit:
        pages[edit[0]] += f"<p>{edit[1]}</p>"
    return pages


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    root = tmp_path_factory.mktemp("proofs")
    for colour in ("blue", "green"):
        Image.new("RGB", (80, 50), {"blue": (0, 0, 200), "green": (0, 160, 0)}[colour]).save(
            root / f"{colour}.png")
    photo = '<img src="{}.png" style="width: 40mm">'
    return {
        "four": write_pdf(root / "four.pdf", text_pages(4)),
        "five": write_pdf(root / "five.pdf", text_pages(5)),
        "six": write_pdf(root / "six.pdf", text_pages(6)),
        "six-again": write_pdf(root / "six-again.pdf", text_pages(6)),
        "six-edited": write_pdf(root / "six-edited.pdf", text_pages(6, (3, "新增一句：龍鳳呈祥。"))),
        "seven": write_pdf(root / "seven.pdf", text_pages(7)),
        "photo-blue": write_pdf(root / "photo-blue.pdf",
                                ["<p>一</p>", photo.format("blue"), "<p>三</p>"]),
        "photo-green": write_pdf(root / "photo-green.pdf",
                                 ["<p>一</p>", photo.format("green"), "<p>三</p>"]),
        # A photo added on page 1; page 2 draws the same photo as before.
        "photo-added": write_pdf(root / "photo-added.pdf",
                                 [photo.format("green"), photo.format("blue"), "<p>三</p>"]),
    }


# -- reading the images back -------------------------------------------------------------------

def mask(image):
    """White where the image is not the proofs' grey ground."""
    ground = Image.new("RGB", image.size, proofs.BACKGROUND)
    return ImageChops.difference(image.convert("RGB"), ground).convert("L").point(
        lambda value: 255 if value else 0)


def runs(flags):
    """(start, end) of each run of True in a list of booleans."""
    found, start = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            found.append((start, index))
            start = None
    return found


def boxes(image, min_height=40):
    """The pages (or thumbnails) on a proof: rectangles that are not grey ground, taller than
    `min_height` (which leaves out the folios), row by row, left to right."""
    found = mask(image)
    width, height = image.size
    rows = runs([found.crop((0, y, width, y + 1)).getbbox() is not None for y in range(height)])
    result = []
    for top, bottom in rows:
        if bottom - top < min_height:
            continue
        columns = runs([found.crop((x, top, x + 1, bottom)).getbbox() is not None
                        for x in range(width)])
        result += [(left, top, right, bottom) for left, right in columns if right - left > 10]
    return result


def count(image, box, test):
    """How many pixels in `box` pass `test(r, g, b)`."""
    pixels = image.crop(box).convert("RGB")
    pixels = getattr(pixels, "get_flattened_data", pixels.getdata)()
    return sum(1 for pixel in pixels if test(*pixel))


def red(r, g, b):
    return r > 180 and g < 70 and b < 70


def blue(r, g, b):
    return b > 180 and r < 70 and g < 70


def dark(r, g, b):
    return r + g + b < 200


# -- reader order and folios ---------------------------------------------------------------

def test_spread_layout_opens_like_the_book():
    assert proofs.spread_layout(0) == []
    assert proofs.spread_layout(1) == [(None, 0)]
    assert proofs.spread_layout(4) == [(None, 0), (1, 2), (3, None)]
    assert proofs.spread_layout(5) == [(None, 0), (1, 2), (3, 4)]
    every = [page for pair in proofs.spread_layout(101) for page in pair if page is not None]
    assert every == list(range(101))


def test_folios_from_page_labels_or_manifest(pdfs, tmp_path):
    assert proofs.folios(pdfs["five"]) == ["1", "2", "3", "4", "5"]
    manifest = Manifest(front_pages=2, page_count=5, entries=[])
    assert proofs.folios(pdfs["five"], manifest) == ["i", "ii", "01", "02", "03"]
    path = tmp_path / "manifest.json"
    path.write_text(manifest.to_json(), encoding="utf-8")
    assert proofs.folios(pdfs["five"], path) == ["i", "ii", "01", "02", "03"]
    with pytest.raises(ValueError, match="manifest"):
        proofs.folios(pdfs["six"], manifest)


def test_roman():
    assert [proofs.roman(n) for n in (1, 4, 9, 14, 40, 1999)] == [
        "i", "iv", "ix", "xiv", "xl", "mcmxcix"]


# -- spreads -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [("four", 3), ("five", 3), ("six", 4)])
def test_one_image_per_spread(pdfs, tmp_path, name, expected):
    paths = proofs.spreads(pdfs[name], tmp_path, dpi=DPI)
    assert [path.name for path in paths] == [f"spreads-{n:02d}.png" for n in range(1, expected + 1)]
    assert sorted(tmp_path.glob("spreads-*.png")) == paths


def test_spreads_show_trimmed_pages_facing(pdfs, tmp_path):
    paths = proofs.spreads(pdfs["four"], tmp_path, dpi=DPI)
    trim_width, trim_height = (round(mm * MM) for mm in TRIM_MM)
    images = [Image.open(path) for path in paths]
    pages = [boxes(image) for image in images]
    assert [len(found) for found in pages] == [1, 2, 1]
    for image, found in zip(images, pages):
        # Every page at its trim size (no 3 mm bleed: that would be 23 px more).
        for left, top, right, bottom in found:
            assert abs(right - left - trim_width) <= 1
            assert abs(bottom - top - trim_height) <= 1
        # A spread is about two pages wide, the single ones too (the other side stays empty).
        assert 2 * trim_width < image.width < 2.3 * trim_width
    # Page 1 alone on the right, the last page (even count) alone on the left, a thin gutter.
    middle = images[0].width / 2
    assert pages[0][0][0] > middle
    assert pages[2][0][2] < middle
    (_, _, left_end, _), (right_start, _, _, _) = pages[1]
    assert 1 <= right_start - left_end <= 6


def test_spread_pages_are_cropped_to_the_trim_box_and_not_blank(pdfs, tmp_path):
    image = Image.open(proofs.spreads(pdfs["four"], tmp_path, dpi=DPI)[1])
    for left, top, right, bottom in boxes(image):
        # The blue frame sits exactly on the trim: each edge is blue, no red bleed shows.
        for edge in ((left, top, right, top + 3), (left, bottom - 3, right, bottom),
                     (left, top, left + 3, bottom), (right - 3, top, right, bottom)):
            assert count(image, edge, blue) > 0.9 * (edge[2] - edge[0]) * (edge[3] - edge[1])
        assert count(image, (left, top, right, bottom), red) == 0
        # The text is there: dark pixels inside the frame.
        assert count(image, (left + 30, top + 30, right - 30, bottom - 30), dark) > 500


def test_spreads_only_some_and_stale_ones_removed(pdfs, tmp_path):
    proofs.spreads(pdfs["six"], tmp_path, dpi=DPI)
    assert len(list(tmp_path.glob("spreads-*.png"))) == 4
    assert [path.name for path in proofs.spreads(pdfs["four"], tmp_path, dpi=DPI, only={2})] == [
        "spreads-02.png"]
    # Four pages make three spreads: the six-page book's fourth is gone.
    assert sorted(path.name for path in tmp_path.glob("spreads-*.png")) == [
        "spreads-01.png", "spreads-02.png", "spreads-03.png"]


# -- contact sheet -------------------------------------------------------------------------

def test_contact_sheet_holds_every_page_in_spreads(pdfs, tmp_path):
    path = proofs.contact_sheet(pdfs["seven"], tmp_path / "sheet.png")
    image = Image.open(path)
    thumbs = boxes(image)
    assert len(thumbs) == 7
    assert all(abs(bottom - top - proofs.THUMB_HEIGHT) <= 1 for _, top, _, bottom in thumbs)
    # Pages pair up as spreads: 2|3, 4|5, 6|7 meet at a thin gutter; 1 stands alone.
    def gap(a, b):
        return thumbs[b][0] - thumbs[a][2] if thumbs[a][1] == thumbs[b][1] else None
    for a, b in ((1, 2), (3, 4), (5, 6)):
        assert gap(a, b) is not None and gap(a, b) <= 4
    for a, b in ((0, 1), (2, 3), (4, 5)):
        assert gap(a, b) is None or gap(a, b) > 10
    # Page 1 is on the right of its spread: it starts where the other right-hand pages do.
    rights = {thumbs[index][0] for index in (0, 2, 4, 6)}
    lefts = {thumbs[index][0] for index in (1, 3, 5)}
    assert thumbs[0][0] in rights and thumbs[0][0] not in lefts
    assert not any(count(image, box, red) for box in thumbs)


def test_contact_sheet_marks_changed_pages(pdfs, tmp_path):
    image = Image.open(proofs.contact_sheet(pdfs["six"], tmp_path / "sheet.png", changed={2}))
    thumbs = boxes(image)
    assert len(thumbs) == 6
    reds = [count(image, box, red) for box in thumbs]
    left, top, right, bottom = thumbs[2]
    assert reds[2] > 2 * (right - left + bottom - top)   # a frame all round
    assert reds[:2] + reds[3:] == [0] * 5
    # …and a red dot by its folio.
    assert count(image, (left, bottom, right, bottom + 30), red) > 10
    assert count(image, (thumbs[3][0], bottom, thumbs[3][2], bottom + 30), red) == 0


# -- changed pages -------------------------------------------------------------------------

def test_no_changes_between_identical_builds(pdfs):
    assert changes.changed_pages(pdfs["six"], pdfs["six"]) == []
    assert changes.changed_pages(pdfs["six"], pdfs["six-again"]) == []
    assert changes.page_hashes(pdfs["six"]) == changes.page_hashes(pdfs["six-again"])


def test_changed_pages_finds_the_edited_page(pdfs):
    assert changes.changed_pages(pdfs["six"], pdfs["six-edited"]) == [3]
    assert changes.changed_pages(pdfs["six-edited"], pdfs["six"]) == [3]


def test_added_and_removed_pages_are_changed(pdfs):
    assert changes.changed_pages(pdfs["six"], pdfs["seven"]) == [6]
    assert changes.changed_pages(pdfs["six"], pdfs["four"]) == [4, 5]


def test_changed_pages_looks_into_the_images(pdfs, tmp_path):
    assert changes.changed_pages(pdfs["photo-blue"], pdfs["photo-green"]) == [1]
    assert changes.changed_pages(pdfs["photo-blue"], pdfs["photo-added"]) == [0]
    # The same name drawing other pixels is a change…
    repainted = rewrite_image(pdfs["photo-blue"], tmp_path / "repainted.pdf", pixels=True)
    assert changes.changed_pages(pdfs["photo-blue"], repainted) == [1]
    # …another name for the same image is not (WeasyPrint numbers some XObjects book-wide).
    renamed = rewrite_image(pdfs["photo-blue"], tmp_path / "renamed.pdf", name="/x0")
    assert changes.changed_pages(pdfs["photo-blue"], renamed) == []


def rewrite_image(source, target, name=None, pixels=False):
    """A copy of `source` whose one image XObject is renamed to `name` (in the resources and
    in the content stream drawing it) or gets other pixel data of the same size."""
    writer = PdfWriter(clone_from=source)
    page = writer.pages[1]
    xobjects = page["/Resources"]["/XObject"]
    (old,) = list(xobjects)
    image = xobjects[old]
    if pixels:
        image.set_data(bytes(255 - byte for byte in image.get_data()))
    if name:
        xobjects[NameObject(name)] = xobjects.raw_get(old)
        del xobjects[old]
        contents = page.get_contents()
        contents.set_data(contents.get_data().replace(old.encode(), name.encode()))
        page.replace_contents(contents)
    writer.write(target)
    return target


# -- proofs --------------------------------------------------------------------------------

def test_proofs_renders_all_without_previous(pdfs, tmp_path):
    result = proofs.proofs(pdfs["six"], tmp_path)
    assert result.changed is None
    assert [path.name for path in result.spreads] == [f"spreads-0{n}.png" for n in (1, 2, 3, 4)]
    assert result.contact_sheet == tmp_path / "contact-sheet.png"
    assert all(path.is_file() for path in result.paths)
    assert len(boxes(Image.open(result.contact_sheet))) == 6


def test_proofs_after_an_edit_renders_the_changed_spread_and_marks_the_page(pdfs, tmp_path):
    result = proofs.proofs(pdfs["six-edited"], tmp_path, previous=pdfs["six"])
    assert result.changed == [3]
    # Page index 3 is on the third spread (3 | 4): only that one is rendered, under its number.
    assert [path.name for path in result.spreads] == ["spreads-03.png"]
    assert [path.name for path in tmp_path.glob("spreads-*.png")] == ["spreads-03.png"]
    sheet = Image.open(result.contact_sheet)
    reds = [count(sheet, box, red) for box in boxes(sheet)]
    assert len(reds) == 6 and reds[3] > 0 and reds[:3] + reds[4:] == [0] * 5
    # The changed page's folio is marked on its spread too.
    spread = Image.open(result.spreads[0])
    left_page, right_page = boxes(spread)
    assert count(spread, (left_page[0], left_page[3], left_page[2], spread.height), red) > 10
    assert count(spread, (right_page[0], right_page[3], right_page[2], spread.height), red) == 0


def test_proofs_reads_the_manifest_json(pdfs, tmp_path):
    """The manifest JSON the build saves can be given as a path."""
    manifest = {"front_pages": 1, "page_count": 5, "entries": [], "colophon": None}
    path = tmp_path / "small-manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = proofs.proofs(pdfs["five"], tmp_path / "out", manifest=path)
    assert len(result.spreads) == 3
    assert len(PdfReader(pdfs["five"]).pages) == len(boxes(Image.open(result.contact_sheet)))


def test_the_early_spread_is_saved_without_loss(tmp_path):
    """The early spread's PNG (unfiltered, deflated at level 1) holds the rendered pixels."""
    pixels = bytes((index * 7) % 256 for index in range(37 * 11 * 3))
    image = Image.frombytes("RGB", (37, 11), pixels)
    proofs._save_png(image, tmp_path / "spread.png")
    with Image.open(tmp_path / "spread.png") as saved:
        assert saved.format == "PNG" and saved.mode == "RGB" and saved.size == (37, 11)
        assert saved.tobytes() == image.tobytes()

"""End to end: the real catalogue, built once per session, read back from its PDFs."""

import collections
import re
import shutil
import unicodedata

import pdfplumber
import pytest
import yaml
from pypdf import PdfReader

from conftest import CATALOGUE
from typeset import content

PLAN = {"前言": 1, "從江簡況": 7, "推動幫扶": 11}
MM = 72 / 25.4
BLEED, MARGIN_TOP, MARGIN_BOTTOM = 3 * MM, 22 * MM, 24 * MM


def column_texts(pdf_path, pages, headers):
    """The text of each table column over `pages`, cut at the edges of the header cells."""
    columns = {header: "" for header in headers}
    with pdfplumber.open(pdf_path) as pdf:
        for index in pages:
            page = pdf.pages[index]
            words = {w["text"]: w for w in page.extract_words()}
            for header in headers:
                if header not in words:
                    continue
                word = words[header]
                cell = next(r for r in page.rects if r["x0"] <= word["x0"] and r["x1"] >= word["x1"]
                            and r["top"] <= word["top"] and r["bottom"] >= word["bottom"])
                crop = page.crop((cell["x0"], cell["bottom"], cell["x1"], page.bbox[3]))
                columns[header] += "".join((crop.extract_text() or "").split())
    return columns


def planned_entries():
    """(title, planned folio) for every contents entry book.yaml plans."""
    from typeset import content
    book = content.load(CATALOGUE)
    for chapter in book.chapters:
        for item in (chapter, *chapter.sections):
            if item.planned_folio is not None:
                yield item.title, item.planned_folio


def page_text(pdf_path, index):
    with pdfplumber.open(pdf_path) as pdf:
        return pdf.pages[index].extract_text() or ""


def visible_folio(pdf_path, index):
    """The folio printed in the page's bottom margin (not the label: the ink)."""
    with pdfplumber.open(pdf_path) as pdf:
        page = pdf.pages[index]
        x0, _, x1, bottom = page.bbox
        trim_bottom = bottom - BLEED
        foot = page.crop((x0, trim_bottom - MARGIN_BOTTOM, x1, trim_bottom))
        return foot.extract_text().strip()


def test_no_weasyprint_warnings(catalogue_build):
    assert [f for f in catalogue_build.findings if f.kind == "weasyprint"] == []


def test_page_labels_match_the_printed_folios(print_pdf, catalogue_build):
    labels = PdfReader(print_pdf).page_labels
    manifest = catalogue_build.manifest
    assert len(labels) == manifest.page_count + manifest.padding
    assert labels[:manifest.front_pages] == ["i", "ii"]  # title page, contents
    for page in range(manifest.front_pages, len(labels)):
        assert labels[page] == f"{manifest.folio(page):02d}"


@pytest.mark.parametrize("title, folio", list(planned_entries()))
def test_entry_starts_on_its_planned_folio(title, folio, print_pdf, catalogue_build):
    entry = next(e for e in catalogue_build.manifest.entries if e.title.endswith(title))
    labels = PdfReader(print_pdf).page_labels
    assert labels[entry.page] == f"{folio:02d}", f"{title} starts on {labels[entry.page]}"
    assert visible_folio(print_pdf, entry.page) == f"{folio:02d}"
    assert title in "".join(page_text(print_pdf, entry.page).split())


def test_first_three_chapters_on_01_07_11(catalogue_build):
    folios = {e.title.split("．")[-1]: e.folio for e in catalogue_build.manifest.entries}
    assert {title: folios[title] for title in PLAN} == PLAN


def test_contents_page_prints_the_folios(print_pdf, catalogue_build):
    manifest = catalogue_build.manifest
    contents = page_text(print_pdf, manifest.front_pages - 1)
    assert contents.startswith("目") and "錄" in contents.splitlines()[0]
    for entry in manifest.entries:
        title = entry.title.split("．")[-1]
        assert re.search(rf"{re.escape(title)}[.\s]*{entry.folio:02d}\s*$", contents, re.M), title


def test_outline_has_every_entry_opening_its_page(screen_pdf, catalogue_build):
    reader = PdfReader(screen_pdf)
    flat = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                flat.append((item.title, level, reader.get_destination_page_number(item)))

    walk(reader.outline, 1)
    assert flat == [(e.title, e.level, e.page) for e in catalogue_build.manifest.entries]
    titles = [title for title, _, _ in flat]
    assert titles[:3] == ["一．前言", "二．從江簡況", "三．推動幫扶"]
    assert len(flat) == 15 and [level for _, level, _ in flat].count(2) == 7


def test_agreement_tables_have_their_nine_rows(print_pdf, catalogue_build):
    data = yaml.safe_load((CATALOGUE / "promotion.yaml").read_text(encoding="utf-8"))
    tables = [b["table"] for b in data["blocks"] if "table" in b]
    assert len(tables) == 3
    entry = next(e for e in catalogue_build.manifest.entries if e.title.endswith("推動幫扶"))
    end = next((e.page for e in catalogue_build.manifest.entries if e.page > entry.page),
               catalogue_build.manifest.page_count)
    with pdfplumber.open(print_pdf) as pdf:
        text = "".join("".join((p.extract_text() or "").split()) for p in pdf.pages[entry.page:end])
    columns = column_texts(print_pdf, range(entry.page, end), ["序號", "協議名稱", "主要內容"])
    for table in tables:
        assert len(table["rows"]) == 9
        assert "".join(table["title"].split()) in text
        for row in table["rows"]:
            assert "".join(str(row[1]).split()) in columns["協議名稱"], row[1]
            assert "".join(str(row[3]).split()) in columns["主要內容"], row[3]


SEED = CATALOGUE.parent.parent / "shared" / "seed" / "000_5b49b9b18ff15a73.txt"
# Seed lines that are not text of the book's pages: the printed contents block (the build
# makes its own), and lone quotation marks that the testimonial template draws.
NOT_TEXT = re.compile(r"^(目錄|[一二三四五六七八]．.*\t\d+|（[一二三四五六七]）.*\t\d+|[“”]|--(\t--)+-?)$")


def seed_pieces():
    """The seed's content lines, cut at tabs (table cells), whitespace removed."""
    for number, line in enumerate(SEED.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or NOT_TEXT.match(line):
            continue
        for piece in line.split("\t"):
            piece = "".join(piece.split())
            if piece:
                yield number, piece


def body_text(pdf_path):
    """The text of every page's type area (no running heads or folios), in drawing order."""
    parts = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            x0, top, x1, bottom = page.bbox
            area = page.crop((x0, top + BLEED + MARGIN_TOP - 2, x1, bottom - BLEED - MARGIN_BOTTOM))
            parts.append(area.extract_text(use_text_flow=True) or "")
    text = "".join("".join(part.split()) for part in parts)
    # Photo placeholders are drawn after the text around them; they are not the book's text.
    text = re.sub(r"圖片待補images/[\w/.-]+?\.(jpg|png|svg)", "", text)
    return unicodedata.normalize("NFKC", text)


@pytest.mark.skipif(not SEED.is_file(), reason="the seed text is not beside the project")
def test_the_seed_text_is_in_the_book(print_pdf):
    """At least 99% of the seed's text (by characters) is found in the PDF's text layer
    (compared after NFKC, so a bracket set full-width in the book still matches; as the
    book's `punctuation` token sets it; a letter given in part as its excerpt)."""
    from typeset import typography
    book = content.load(CATALOGUE)
    text = body_text(print_pdf)

    def forms(piece):
        normal = typography.normalise(piece, book.design["quotes"], book.design["punctuation"])
        return {unicodedata.normalize("NFKC", form) for form in (
            piece, normal, typography.to_last_sentence(piece))}

    pieces = [(number, piece) for number, piece in seed_pieces()]
    missing = [(number, piece) for number, piece in pieces
               if not any(form in text for form in forms(piece))]
    total = sum(len(piece) for _, piece in pieces)
    lost = sum(len(piece) for _, piece in missing)
    assert lost / total <= 0.01, f"{lost} of {total} characters missing: {missing[:20]}"


def test_a_chapter_that_grows_fails_the_strict_build(tmp_path):
    """An edit that pushes the next chapter off its planned folio stops a --strict build."""
    from typeset.build import build
    from typeset.errors import BuildError
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    shutil.copytree(CATALOGUE.parent / "images", tmp_path / "images")
    preface = catalogue / "preface.yaml"
    data = yaml.safe_load(preface.read_text(encoding="utf-8"))
    paragraph = next(b["paragraph"] for b in data["blocks"] if "paragraph" in b)
    data["blocks"].insert(1, {"paragraph": paragraph * 50})
    preface.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(BuildError) as caught:
        build(catalogue, tmp_path / "build", strict=True, progress=lambda line: None)
    message = str(caught.value)
    drift = re.search(r"book\.yaml:\d+: 二．從江簡況 \(congjiang\.yaml\) starts on folio (\d\d), "
                      r"planned 07: the pages before it run over — shorten them by (\d+) to "
                      r"(\d+) pages", message)
    assert drift, message
    # A chapter opens on a recto: it moves by whole spreads, and the fix is a range.
    landed = int(drift[1])
    assert landed > 7 and landed % 2 == 1 and int(drift[3]) == landed - 7
    assert int(drift[2]) == int(drift[3]) - 1
    assert not (tmp_path / "build").exists() or not list((tmp_path / "build").glob("*.pdf"))


def test_a_letter_given_in_part_ends_at_a_whole_sentence_marked_as_an_excerpt(print_pdf):
    """extent: excerpt — the source gives each letter's first page, cut mid-sentence: the
    typed text stops at its last whole sentence and says it is an excerpt."""
    book = content.load(CATALOGUE)
    letters = [b for b in book.blocks() if b.kind == "letter" and b.fields["extent"] == "excerpt"]
    assert len(letters) == 4
    text = "".join((page.extract_text() or "") for page in PdfReader(print_pdf).pages)
    text = "".join(text.split())
    mark = book.labels["excerpt"]
    for letter in letters:
        last = letter.fields["body"][-1]
        cut = last[:max(last.rfind(end) for end in "。！？") + 1]
        assert cut != last and "".join(cut.split())[-20:] + mark in text
    assert "全部脱贫，66" not in text  # where the source breaks off


def test_no_page_of_the_book_is_blank(print_pdf, catalogue_build):
    """The versos before chapters that open on a recto, and the page before the colophon,
    carry dividers (full-bleed photo slots): every page of the 100 prints something, and
    nothing pads the book to its binding."""
    reader = PdfReader(print_pdf)
    assert len(reader.pages) == 100
    empty = [number for number, page in enumerate(reader.pages, 1)
             if not "".join((page.extract_text() or "").split())
             and not page.images]
    assert empty == []


def test_a_divider_fills_the_verso_before_a_chapter_edge_to_edge(small_book):
    """Chapter one ends on its first page (a recto); its divider takes the verso, its slot
    bled on every side, without running head or folio; chapter two still opens on folio 03."""
    small_book.book["chapters"][1]["folio"] = 3
    small_book.write_book()
    text = (small_book.catalogue / "one.yaml").read_text(encoding="utf-8")
    small_book.write("one.yaml", text + "  - divider: images/one/divider.jpg\n")
    result = small_book.build()
    reader = PdfReader(result.paths["print"])
    texts = ["".join((page.extract_text() or "").split()) for page in reader.pages]
    [index] = [i for i, text in enumerate(texts) if "images/one/divider.jpg" in text]
    assert "貧困是人類社會的頑疾" in texts[index - 1] and "第二章的文字" in texts[index + 1]
    assert "02" not in texts[index] and "03" in texts[index + 1]
    # the page before it is its chapter's last: it may end short
    assert not [f for f in result.findings if f.kind == "underfull"]
    bleed = reader.pages[index].bleedbox
    with pdfplumber.open(result.paths["print"]) as pdf:
        page = pdf.pages[index]
        height = float(page.height)
        ground = [r for r in page.rects if r["width"] >= float(bleed.width) - 0.5]
    assert ground, "no slot as wide as the bleed box"
    assert abs(ground[0]["x0"] - float(bleed.left)) < 0.5
    assert abs(ground[0]["top"] - (height - float(bleed.top))) < 0.5
    assert abs(ground[0]["bottom"] - (height - float(bleed.bottom))) < 0.5


def test_each_letter_is_shown_as_its_scan_above_its_transcription(print_pdf):
    """The letters (f88–f91) as facsimiles: the scan, whole (fit contain), at least 60 % of
    the measure wide, above the typed text; no second red for the letterhead."""
    book = content.load(CATALOGUE)
    letters = [b for b in book.blocks() if b.kind == "letter"]
    measure = 44 * 10.5
    with pdfplumber.open(print_pdf) as pdf:
        for letter in letters:
            name = letter.fields["image"]
            [page] = [p for p in pdf.pages if name in "".join((p.extract_text() or "").split())]
            scan = max(page.rects, key=lambda r: r["width"] * r["height"])
            assert scan["width"] >= 0.6 * measure
            title = [c for c in page.chars if c["text"] in letter.fields["title"]
                     and abs(c["size"] - 12) < 0.1]
            assert title and min(c["top"] for c in title) > scan["bottom"]
            reds = {c["non_stroking_color"] for c in page.chars if c["text"] in
                    (letter.fields.get("letterhead") or "")}
            assert all(colour is None or len(set(colour)) == 1 or colour[0] == 0
                       for colour in reds), reds


def test_the_map_is_shown_whole_in_its_own_proportion():
    """The map on f09 (4:5 artwork, fit: contain) is never cropped: its slot takes the map's
    proportion at the measure, and the drawing fills it exactly — legend, north arrow,
    江西省, 雲南省 and the disclaimer inside."""
    from weasyprint.layout.replaced import replacedbox_layout
    from typeset import render
    from typeset.engine import grid
    from typeset.session import Session
    book = content.load(CATALOGUE)
    [block] = [b for b in book.blocks() if str(b.fields.get("image", "")).endswith(".svg")]
    images = collections.defaultdict(lambda: None)
    images[block.fields["image"]] = (book.images.parent / block.fields["image"]).as_uri()
    document, _, front = render._whole(book, Session(), images)
    [(folio, box)] = [(index - front + 1, box) for index, page in enumerate(document.pages)
                      for box in grid._boxes(page._page_box)
                      if getattr(box, "element_tag", None) == "img"]
    assert folio == 9
    width, height, x, y = replacedbox_layout(box)
    assert abs(box.height / box.width - 200 / 160) < 0.005
    assert width <= box.width + 0.01 and height <= box.height + 0.01
    assert abs(width - box.width) < 0.5 and abs(height - box.height) < 0.5


def test_the_closing_thanks_stand_alone_at_the_optical_centre(print_pdf):
    """f96: the thanks (kind `closing`) alone on their page, without running head or folio,
    centred across and set a little above the middle of the page."""
    with pdfplumber.open(print_pdf) as pdf:
        [page] = [p for p in pdf.pages if "表示衷心的感謝" in (p.extract_text() or "")]
        chars = [c for c in page.chars if c["text"].strip()]
        box = [float(v) for v in page.page_obj.attrs["TrimBox"]]
    height = box[3] - box[1]
    trim_top = float(page.height) - box[3]
    tops = [(c["top"] - trim_top) / height for c in chars]
    assert all(0.35 < top < 0.6 for top in tops)  # nothing else on the page: no folio
    measure, inner = 44 * 10.5, 20 / 25.4 * 72  # f96 is a verso: the outer margin at the left
    left = box[0] + (box[2] - box[0]) - inner - measure
    middle = (min(c["x0"] for c in chars) + max(c["x1"] for c in chars)) / 2
    assert abs(middle - (left + measure / 2)) < 3  # centred on the type area


def test_a_narrow_photo_alone_has_its_caption_beside_it(screen_pdf):
    """A two-thirds photo alone in its row (f47, f92, f93) has its caption in the third beside
    it, the caption's last line at the photo's foot — not under it with the third left empty."""
    captions = ("圖為在公益性崗位就業的貧困戶", "澳門紅十字會獲得", "澳門中國企業協會獲得")
    with pdfplumber.open(screen_pdf) as pdf:
        for wanted in captions:
            [page] = [p for p in pdf.pages if wanted in "".join((p.extract_text() or "").split())
                      and p.rects]
            measure = max(r["width"] for r in page.rects)
            slots = [r for r in page.rects if r["height"] > 100]
            slot = min(slots, key=lambda r: abs(r["width"] - 2 / 3 * measure))
            chars = [c for c in page.chars if c["x0"] > slot["x1"] and slot["top"] <= c["top"]
                     and c["bottom"] <= slot["bottom"] + 1 and c["size"] < 10]
            assert chars, wanted
            assert abs(max(c["bottom"] for c in chars) - slot["bottom"]) < 3, wanted
            assert max(c["x1"] for c in chars) < page.width - 15 * MM  # inside the type area


def test_photo_rows_and_galleries_share_one_column_module(screen_pdf):
    """Galleries of 2, 3 and 4 columns and rows of half, third and two-thirds blocks all fall
    on one twelve-column module of the measure (book.yaml `gutter`): each narrow photo slot
    starts and ends on a column edge, so photos line up from block to block (社會參與 f62–f78)."""
    book = content.load(CATALOGUE)
    measure = 44 * 10.5
    gutter = 6 * MM
    column = (measure - 11 * gutter) / 12
    starts = [k * (column + gutter) for k in range(12)]
    ends = [k * (column + gutter) - gutter for k in range(1, 13)]
    widths = [n * (column + gutter) - gutter for n in (3, 4, 6, 8)]
    assert book.design["gutter"] == "6mm" and book.design["measure"] == 44
    seen, off = 0, []
    with pdfplumber.open(screen_pdf) as pdf:
        for index, page in enumerate(pdf.pages):
            folio = index - 1
            left = 20 * MM if folio % 2 else page.width - 20 * MM - measure
            grounds = [r for r in page.rects if r["fill"] and not r["stroke"]
                       and r["height"] > 40]
            for rect in grounds:  # the slots' grounds, not the placeholders' inside them
                if min(abs(rect["width"] - width) for width in widths) > 2.5 or any(
                        o["x0"] + 0.2 < rect["x0"] and rect["x1"] < o["x1"] - 0.2
                        and o["top"] - 0.1 <= rect["top"] and rect["bottom"] <= o["bottom"] + 0.1
                        for o in grounds):
                    continue
                seen += 1
                start, end = rect["x0"] - left, rect["x1"] - left
                if min(abs(start - s) for s in starts) > 0.5 or min(
                        abs(end - e) for e in ends) > 0.5:
                    off.append((folio, round(start, 1), round(end, 1)))
    assert seen > 60 and not off, off


def test_photos_facing_each_other_start_at_one_height(screen_pdf):
    """Across a spread, the first photo of each page starts on one line (the issue's f24/f25,
    f32/f33 and f40/f41 were 17–27 mm apart): the page whose photos stood higher moved them
    down, a lone photo facing them hangs from their line. Facing a section's opener (its
    title and lead: 60–75 mm of sinkage) the photos stay at the head of the page."""
    def first_photo(page):
        tops = [r["top"] for r in page.rects if r["fill"] and not r["stroke"]
                and r["height"] > 40 and r["width"] > 60]
        return min(tops)
    with pdfplumber.open(screen_pdf) as pdf:
        for verso in (12, 24, 32, 40, 62):
            left, right = (first_photo(pdf.pages[folio + 1]) for folio in (verso, verso + 1))
            assert abs(left - right) < 0.5, (verso, left, right)
        head = 22 * MM
        for verso in (20, 38, 44):
            left, right = (first_photo(pdf.pages[folio + 1]) for folio in (verso, verso + 1))
            assert left - right > 50 * MM and abs(right - head) < 0.5, (verso, left, right)

"""Chinese typography on the real catalogue, measured from the PDF: justified lines flush,
line-start/line-end rules, no lone last character, compressed punctuation pairs; and the
text layer unchanged."""

import subprocess
import shutil
from statistics import median

import pdfplumber
import pytest

from conftest import CATALOGUE
import measure
from typeset import content, typography

NO_LINE_START = set("，。、；：？！）」』》〉…—”’")
NO_LINE_END = set("（「『《〈“‘")
# Fields set justified by the stylesheets, by block kind.
JUSTIFIED = {"paragraph": ("text",), "figure": ("caption",), "gallery": ("caption", "photos"),
             "testimonial": ("text",), "letter": ("body",), "clipping": ("body", "caption"),
             "ordersheet": ("body", "products"), "table": ("rows",)}


def squeeze(text):
    return "".join(text.split())


def justified_sources():
    """Every justified text of the content, whitespace removed (one string per paragraph)."""
    sources = []

    def collect(value):
        if isinstance(value, str):
            sources.extend(squeeze(line) for line in value.split("\n"))
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in ("image", "name", "rowspan", "colspan"):
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for block in content.load(CATALOGUE).blocks():
        for field in JUSTIFIED.get(block.kind, ()):
            collect(block.fields.get(field))
    return [source for source in sources if len(source) > 1]


@pytest.fixture(scope="session")
def lines(screen_pdf):
    """(block, line, next line in the block or None) for every line of the screen edition."""
    blocks = measure.measure(screen_pdf)
    return [(block, line, below) for block in blocks
            for line, below in zip(block.lines, block.lines[1:] + [None])]


@pytest.fixture(scope="session")
def paragraph_lines(lines):
    """The lines of justified paragraphs, each with the source it belongs to and whether it is
    the last line of that paragraph."""
    sources = justified_sources()
    found = []
    for block, line, below in lines:
        text = squeeze(line.text)
        for source in sources:
            start = source.find(text)
            if start < 0 or not text:
                continue
            end = start + len(text)
            follows = below is not None and source.startswith(squeeze(below.text), end)
            found.append((line, end == len(source), follows, source))
            break
    return found


def test_most_of_the_justified_text_is_found(paragraph_lines):
    assert len(paragraph_lines) > 500


def test_inner_lines_end_flush_with_the_column(paragraph_lines):
    short = [(line.page, round(line.short, 2), line.text) for line, last, follows, _ in
             paragraph_lines if follows and not last and line.short > 0.5]
    assert short == []


def text_openings():
    """The first characters of every text of the content: a line that opens a text may start
    with what the source starts with (——澳门对口帮扶从江纪实, — 1 —)."""
    openings = set()

    def collect(value):
        if isinstance(value, str):
            openings.update(squeeze(line)[:4] for line in value.split("\n"))
        elif isinstance(value, (dict, list)):
            for item in (value.values() if isinstance(value, dict) else value):
                collect(item)

    for block in content.load(CATALOGUE).blocks():
        collect(block.fields)
    return openings


def test_no_line_starts_or_ends_with_a_forbidden_mark(lines):
    names = {b.fields["name"] for b in content.load(CATALOGUE).blocks()
             if b.kind == "testimonial" and b.fields["name"]}
    openings = text_openings()
    # A testimonial's attribution opens with the dash the template draws (——孟銀月).
    starts = [(line.page, line.text) for _, line, _ in lines
              if line.text.strip()[:1] in NO_LINE_START
              and line.text.strip().lstrip("—") not in names
              and squeeze(line.text)[:4] not in openings
              and line.text.strip() != "……"]  # a table row that is only "and so on" (.....)
    # The testimonials' large opening quote is a decoration on a line of its own.
    ends = [(line.page, line.text) for _, line, _ in lines
            if line.text.strip()[-1:] in NO_LINE_END and line.text.strip() != "“"]
    assert starts == [] and ends == []


def test_no_paragraph_ends_with_one_character_alone(paragraph_lines):
    lone = [(line.page, source[-12:]) for line, last, _, source in paragraph_lines
            if last and len(squeeze(line.text).rstrip("，。、；：？！）」』》〉…—”’")) == 1
            and len(source) > 2]
    assert lone == []


def test_ellipses_and_dashes_are_never_split(lines):
    for _, line, below in lines:
        if below is not None:
            assert not (line.text.endswith("…") and below.text.startswith("…"))
            assert not (line.text.endswith("—") and below.text.startswith("—"))


def test_compressed_punctuation_pairs_measure_one_and_a_half_em(screen_pdf):
    """A pair such as 」。 takes 1.5 em (plus the line's inter-character spacing)."""
    measured = []
    with pdfplumber.open(screen_pdf) as pdf:
        for page in pdf.pages:
            chars = [c for c in page.chars if c["upright"]]
            rows = {}
            for char in chars:
                rows.setdefault(round(char["bottom"]), []).append(char)
            for row in rows.values():
                row.sort(key=lambda c: c["x0"])
                size = median(c["size"] for c in row)
                han = [b["x0"] - a["x0"] for a, b in zip(row, row[1:])
                       if len(a["text"]) == len(b["text"]) == 1
                and typography.is_han(a["text"]) and typography.is_han(b["text"])]
                if len(row) < 10 or not han:
                    continue
                spacing = median(han) - size
                for a, b, c in zip(row, row[1:], row[2:]):
                    if (a["text"] in typography.PUNCTUATION and b["text"] in typography.PUNCTUATION
                            and typography.is_han(c["text"][:1]) and c["x0"] - a["x0"] < 3 * size):
                        measured.append((c["x0"] - a["x0"] - 2 * spacing) / size)
    assert len(measured) >= 10
    assert all(1.45 <= width <= 1.55 for width in measured), measured


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) absent")
def test_pdftotext_gives_the_source_text(screen_pdf):
    """The text layer is the source: nothing inserted by justification or the markup."""
    text = squeeze(subprocess.run(["pdftotext", "-f", "3", "-l", "5", str(screen_pdf), "-"],
                                  capture_output=True, text=True, check=True).stdout)
    book = content.load(CATALOGUE)
    paragraphs = [b.fields["text"] for b in book.chapters[0].blocks if b.kind == "paragraph"]
    assert len(paragraphs) == 4
    for paragraph in paragraphs:
        assert squeeze(paragraph) in text


def test_runs_mark_pairs_gaps_and_the_last_two_characters():
    groups = typography.runs("第23屆澳門國際貿易投資展覽會（MIF）上，「從江」。")
    # ，「 compresses the opening bracket, 」。 the closing one.
    parts = [(part.text, part.classes) for group in groups for part in group.parts]
    assert ("2", "gap-before") in parts and ("3", "gap-after") in parts
    assert ("」", "halt") in parts and ("）", "halt") not in parts and ("「", "halt") in parts
    assert groups[-1].nobr and "".join(p.text for p in groups[-1].parts) == "從江」。"
    assert "".join(p.text for g in groups for p in g.parts) == "第23屆澳門國際貿易投資展覽會（MIF）上，「從江」。"


def test_a_gap_never_ends_or_starts_a_line():
    """The quarter-em gap and the characters on both sides of it are one unbreakable run: a
    break there would leave the gap at a line's end (a short line) or start (an indent)."""
    groups = typography.runs("預計15天左右到澳。訂購20份起")
    glued = ["".join(p.text for p in g.parts) for g in groups if g.nobr]
    assert "計1" in glued[0] and "5天" in glued[0] and "購20份" in glued[1]


def test_the_last_han_character_keeps_its_neighbour_across_a_typed_space():
    groups = typography.runs("每年總計 150 萬元人民幣，為期 3 年。")
    assert groups[-1].nobr and "".join(p.text for p in groups[-1].parts) == "3 年。"


def test_a_typed_space_gets_no_second_gap():
    parts = [p for g in typography.runs("面積 3244 平方公里") for p in g.parts]
    assert all("gap" not in part.classes for part in parts)


def test_glyph_forms_follow_the_language(screen_pdf):
    """Traditional text in the TC face, Simplified clippings in the SC face, the 題辭 in Kai."""
    fonts = {}
    with pdfplumber.open(screen_pdf) as pdf:
        for page in pdf.pages:
            for char in page.chars:
                fonts.setdefault(char["text"], set()).add(char["fontname"].split("+")[-1])
    def faces(chars):
        return set().union(*(fonts.get(char, set()) for char in chars))
    assert {"Noto-Serif-CJK-SC"} <= faces("从贵")          # Simplified only in the SC face
    assert not any("SC" in face for face in faces("從貴"))  # Traditional never in SC
    assert "AR-PL-UKai-TW" in faces("澳")                 # the inscriptions


def test_the_column_is_a_whole_number_of_ems(screen_pdf, catalogue_build):
    """The type area is `measure` body characters wide (44 × 10.5 pt): a justified line of
    the preface spans exactly that."""
    book = content.load(CATALOGUE)
    size = float(book.design["body_size"].removesuffix("pt"))
    with pdfplumber.open(screen_pdf) as pdf:
        page = pdf.pages[catalogue_build.manifest.front_pages + 1]  # folio 02: text only
        body = [char for char in page.chars if abs(char["size"] - size) < 0.05]
    width = max(c["x1"] for c in body) - min(c["x0"] for c in body)
    assert width == pytest.approx(book.design["measure"] * size, abs=0.5)


def test_a_marked_latin_passage_keeps_the_quarter_em_from_han():
    """`從[Senado Square]{lang=en}到` gets the gaps a Latin word typed in Chinese gets; a
    typed space or punctuation beside the passage gets none."""
    found = [(s.lang, s.classes) for s in typography.segments(
        "從[Senado Square]{lang=en}到[Largo]{lang=pt} 與（[Macao]{lang=en}）", "zh-Hant")]
    assert found == [(None, ""), ("en", "gap-before gap-after"), (None, ""),
                     ("pt", "gap-before"), (None, ""), ("en", ""), (None, "")]


def test_a_simplified_line_keeps_one_face_for_its_han_and_punctuation(screen_pdf):
    """In a Simplified block every run — quotes, dashes, the last characters kept together —
    is set in the block's face: no line that has Simplified glyphs mixes in a Traditional or
    another face for its Han characters and Chinese punctuation."""
    chinese = set(typography.OPENING + typography.CLOSING + typography.STOPS + "—…")
    mixed, simplified = [], 0
    with pdfplumber.open(screen_pdf) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            lines = {}
            for char in page.chars:
                text = char["text"]
                if len(text) == 1 and (typography.is_han(text) or text in chinese):
                    key = (round(char["top"]), round(char["size"], 1))
                    lines.setdefault(key, []).append(char["fontname"].split("+")[-1])
            for faces in lines.values():
                if any("-SC" in face for face in faces):
                    simplified += 1
                    if len(set(faces)) > 1:
                        mixed.append((number, sorted(set(faces))))
    assert simplified > 80  # the clippings and letters in Simplified (95 lines)
    assert mixed == []


def test_the_editors_choices_normalise_chinese_text_not_its_source():
    """design `quotes` and `punctuation`: the source's ASCII marks and typed spaces set as
    Chinese marks; quotes converted one way; an apostrophe between Latin letters kept."""
    source = "他說：“好的.....”(五十二)  中央電視台[新聞聯播] 時間： 2018年 St. Anthony’s 好…"
    assert typography.normalise(source) == source
    assert typography.normalise(source, "corner", "normalise") == (
        "他說：「好的……」（五十二）中央電視台《新聞聯播》時間：2018年 St. Anthony’s 好……")
    assert typography.normalise("「好」『的』", "curly") == "“好”‘的’"


def test_a_headline_breaks_between_phrases_not_inside_a_word():
    """Headlines (clippings, videos) break at typed spaces and after 、，：；！？; a short
    phrase is kept whole, a long one keeps its last four characters together."""
    assert typography.phrases("澳门回归20年 苗侗风情来助兴") == [
        ("澳门回归20年", True, " "), ("苗侗风情来助兴", True, "")]
    assert typography.phrases("省政府与澳门特别行政区政府、中央政府驻澳门联络办公室签署扶贫框架协议") == [
        ("省政府与澳门特别行政区政府、", True, ""),
        ("中央政府驻澳门联络办公室签署扶贫", False, ""), ("框架协议", True, "")]
    assert typography.phrases("從[Senado Square]{lang=en}出發") == [
        ("從[Senado Square]{lang=en}出發", False, "")]


def test_the_clippings_headlines_break_where_the_phrases_allow(print_pdf):
    """In the book: 「澳门回归20年 苗侗风情来助兴」 breaks at its space, and the long headline
    on folio 83 does not leave 「架协议」 alone on its second line."""
    with pdfplumber.open(print_pdf) as pdf:
        lines = [line["text"] for page in pdf.pages
                 for line in page.extract_text_lines() if line["chars"][0]["size"] > 12.5]
    assert "苗侗风情来助兴" in lines and "架协议" not in lines

"""The second book (examples/macao-heritage): another trim (170 × 240 mm), perfect binding
with a separate cover, Traditional Chinese with English, Portuguese and Simplified blocks and
inline spans, every block kind, a long table. Built once, strictly, with a generated
camera-like photo in every slot, and read from its PDFs: nothing of the first book's size,
binding, language or conventions may show."""

import re
import shutil
import statistics
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
import pypdf

from typeset import content, kinds, samples
from typeset.build import build
from typeset.typography import plain
from typeset.units import to_mm

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "macao-heritage"
PT = 25.4 / 72


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(EXAMPLE, root, dirs_exist_ok=True)
    samples.fill(root / "catalogue", size=(2400, 1800))
    result = build(root / "catalogue", root / "build", strict=True, pad=True,
                   progress=lambda line: None)
    return result, content.load(root / "catalogue")


def test_every_block_kind_and_language_is_in_it(example):
    _, book = example
    used = {block.kind for block in book.blocks()}
    assert used == set(kinds.KINDS)
    assert {block.lang or book.language for block in book.blocks()} >= {
        "zh-Hant", "zh-Hans", "en", "pt"}
    assert any("]{lang=en}" in str(block.fields.get("text", "")) for block in book.blocks()
               if block.kind == "paragraph" and block.lang is None)
    assert sum(len(block.fields["rows"]) for block in book.blocks() if block.kind == "table") >= 30


def test_it_builds_strictly_with_no_overflow_and_every_photo(example):
    result, book = example
    assert not [f for f in result.findings if f.level == "error"]
    assert not [f for f in result.findings if f.kind in ("overflow", "missing-image")]
    with pikepdf.open(result.paths["print"]) as pdf:
        assert len(pdf.pages) >= 32
        box = [float(v) for v in pdf.pages[0].TrimBox]
        assert abs((box[2] - box[0]) * PT - 170) < 0.1 and abs((box[3] - box[1]) * PT - 240) < 0.1


def test_perfect_binding_has_a_separate_one_sheet_cover_and_whole_signatures(example):
    result, book = example
    assert book.production["binding"] == "perfect"
    pages = len(pypdf.PdfReader(result.paths["print"]).pages)
    assert pages % book.production["signature"] == 0
    # The text block opens on the title page: the cover is not printed twice.
    first = pypdf.PdfReader(result.paths["print"]).pages[0].extract_text()
    assert "ISBN" not in first
    cover = pypdf.PdfReader(result.paths["cover"])
    assert len(cover.pages) == 1
    spine = pages / 2 * to_mm(book.production["caliper"])
    trim = [float(v) for v in cover.pages[0].trimbox]
    assert abs((trim[2] - trim[0]) * PT - (2 * 170 + spine)) < 0.1


def test_outline_labels_and_contents_are_the_planned_folios(example):
    result, book = example
    reader = pypdf.PdfReader(result.paths["screen"])
    labels = reader.page_labels
    suffix = book.labels["number_suffix"]
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [item.title for item in top] == [
        f"{chapter.number}{suffix}{plain(chapter.title)}" if chapter.number
        else plain(chapter.title) for chapter in book.chapters]
    contents = next(page.extract_text() for page in reader.pages
                    if book.labels["contents"] in (page.extract_text() or ""))
    for chapter, item in zip(book.chapters, top):
        planned = chapter.planned_folio
        assert labels[reader.get_destination_page_number(item)] == f"{planned:02d}"
        assert f"{planned:02d}" in contents


def _words(pdf_path, languages=("en", "pt")):
    """The words of Latin text (three letters or more) as their characters, from the screen
    edition (its text is tagged with its language; pdfplumber reads the characters)."""
    words = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            chars = sorted((c for c in page.chars if c.get("upright", True)),
                           key=lambda c: (round(c["bottom"]), c["x0"]))
            run = []
            for char in chars + [None]:
                latin = char is not None and re.match(r"[A-Za-zÀ-ÿ]", char["text"])
                if latin and run and abs(char["bottom"] - run[-1]["bottom"]) < 1 \
                        and char["x0"] - run[-1]["x1"] < 0.15 * char["size"]:
                    run.append(char)
                    continue
                if len(run) >= 3:
                    words.append(run)
                run = [char] if latin else []
    return words


def test_no_latin_word_is_letter_spaced(example):
    """Justified Latin lines stretch at their spaces only: the gap between the letters of a
    word is the font's own (its kerning aside, 0 pt), so each line's median gap is within
    ±0.2 pt, and hardly any gap is wider."""
    result, _ = example
    words = _words(result.paths["screen"])
    assert len(words) > 300
    lines = {}
    for word in words:
        key = (round(word[0]["bottom"]), word[0]["page_number"])
        lines.setdefault(key, []).extend(b["x0"] - a["x1"] for a, b in zip(word, word[1:]))
    for gaps in lines.values():
        assert abs(statistics.median(gaps)) <= 0.2, gaps
    every = [gap for gaps in lines.values() for gap in gaps]
    assert sum(abs(gap) > 0.6 for gap in every) / len(every) < 0.02


def test_english_paragraphs_are_hyphenated(example):
    """A line of English text that ends inside a word ends with a hyphen the source does not
    have (hyphens: auto with the block's lang, through pyphen)."""
    result, book = example
    source = " ".join(str(block.fields.get("text", "")) for block in book.blocks()
                      if block.lang == "en")
    reader = pypdf.PdfReader(result.paths["screen"])
    broken = []
    for page in reader.pages:
        lines = (page.extract_text() or "").splitlines()
        for line, below in zip(lines, lines[1:]):
            found = re.search(r"([A-Za-z]+)[-\u2010]$", line.strip())
            following = re.match(r"([a-z]+)", below.strip())
            if found and following and f"{found[1]}{following[1]}" in source \
                    and f"{found[1]}-{following[1]}" not in source:
                broken.append(f"{found[1]}-{following[1]}")
    assert broken, "no English word is hyphenated at a line end"


def test_the_books_own_labels_are_used(example):
    result, book = example
    reader = pypdf.PdfReader(result.paths["screen"])
    assert book.labels["number_suffix"] != "．"
    assert not any("．" in item.title for item in reader.outline if not isinstance(item, list))


def test_the_colophon_carries_the_publication_entries_and_the_trim(example):
    """book.yaml `publication:` entries with their labels, the format from the trim, the
    copyright line; a name is never split across lines."""
    result, book = example
    with pdfplumber.open(result.paths["print"]) as pdf:
        text = pdf.pages[-1].extract_text()  # the colophon closes the book (--pad goes before it)
    separator = book.labels["separator"]
    assert f"{book.labels['format']}{separator}170 × 240 mm" in text
    for name, value in book.publication.items():
        label = "" if name == "copyright" else f"{book.labels[name]}{separator}"
        assert f"{label}{value}".replace(" ", "").replace("\u3000", "") in \
            text.replace(" ", "").replace("\u3000", ""), name


def test_han_lines_still_end_flush(example):
    """The Chinese paragraphs of the example are justified as the catalogue's are: each line
    but a paragraph's last ends within 0.5 pt of the column (tests/measure.py)."""
    import measure
    result, book = example
    sources = ["".join(plain(block.fields["text"]).split()) for block in book.blocks()
               if block.kind == "paragraph" and block.lang is None]
    checked, short = 0, []
    for block in measure.measure(result.paths["screen"]):
        for line, below in zip(block.lines, block.lines[1:]):
            text = "".join(line.text.split())
            source = next((s for s in sources if len(text) > 8 and text in s), None)
            if source is None or not source.startswith("".join(below.text.split())[:4],
                                                         source.find(text) + len(text)):
                continue  # not a Chinese paragraph's inner line
            checked += 1
            if line.short > 0.5:
                short.append((line.page, line.text, round(line.short, 2)))
    assert checked > 40 and short == []

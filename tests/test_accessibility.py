"""The screen edition as a screen reader, a copy-paste and a viewer meet it (issue 17): veraPDF's
PDF/UA-1 verdict on the real book (placeholders, and a few generated photos) and on a small book
with every block kind; PDF/UA-2 and WTPDF failing only what a PDF 1.7 file cannot meet; the
structure tree walked as a reader walks it; the headings' text as pdftotext, MuPDF and pdf.js
extract it."""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
import yaml
from validators import verapdf

from typeset import bench, content, kinds, samples

PDFJS = Path(__file__).resolve().parent / "pdfjs"
CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue"
MM = 72 / 25.4

# What a PDF 1.7 file that claims PDF/UA-1 cannot meet: the PDF/UA-2 identification (part 2,
# its year) and the PDF 2.0 namespace of the Document element; WTPDF's declaration (a claim of
# WTPDF, a PDF 2.0 standard, would be false) and the same namespace.
PDF_20_ONLY = {
    "ua2": {"ISO 14289-2:2024:5-2", "ISO 14289-2:2024:5-5", "ISO 14289-2:2024:8.2.5.2-2"},
    "wt1a": {"WTPDF1.0:6.1.3-1", "WTPDF1.0:8.2.5.2-2"},
}


# ---- the structure tree, as a reader walks it ------------------------------------------------

@dataclass
class Node:
    kind: str                 # the structure type, without the slash
    lang: str                 # its language, inherited
    page: int                 # the page of its first content
    text: str = ""            # the text of its marked content and its children's, in order
    element: object = None    # the pikepdf dictionary
    children: list = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def structure(pdf_path):
    """The structure tree of `pdf_path` as Nodes, with the text each element's marked content
    draws (pdfplumber's characters by page and MCID)."""
    texts = {}
    with pdfplumber.open(pdf_path) as plumber:
        for index, page in enumerate(plumber.pages):
            for char in page.chars:
                if char.get("mcid") is not None:
                    texts.setdefault((index, char["mcid"]), []).append(char["text"])
    pdf = pikepdf.open(pdf_path)
    pages = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
    language = str(pdf.Root.get("/Lang", ""))

    def node(element, lang, page):
        lang = str(element.get("/Lang", lang))
        page = pages.get(element.Pg.objgen, page) if "/Pg" in element else page
        made = Node(str(element.S)[1:], lang, page, element=element)
        kids = element.get("/K")
        parts = []
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None
                    else []):
            if isinstance(kid, int):
                parts.append("".join(texts.get((page, int(kid)), [])))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                at = pages.get(kid.Pg.objgen, page) if "/Pg" in kid else page
                parts.append("".join(texts.get((at, int(kid.MCID)), [])))
            elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                child = node(kid, lang, page)
                made.children.append(child)
                parts.append(child.text)
        made.text = "".join(parts)
        return made

    root = pdf.Root.StructTreeRoot
    kids = root.K if isinstance(root.K, pikepdf.Array) else [root.K]
    top = Node("StructTreeRoot", language, 0, element=root)
    top.children = [node(kid, language, 0) for kid in kids]
    top.pdf = pdf  # kept open while the nodes are read
    return top


def headings(tree):
    return [n for n in tree.walk() if re.fullmatch(r"H[1-6]?", n.kind)]


# ---- readers ---------------------------------------------------------------------------------

def read_pages(reader, pdf_path):
    """The text each page gives in `reader` (skips when the reader is not installed)."""
    if reader == "pdftotext":
        if not shutil.which("pdftotext"):
            pytest.skip("pdftotext (poppler-utils) is not installed: make installs it")
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf_path), "-"],
                             capture_output=True, text=True, check=True).stdout
        return out.split("\f")
    if reader == "mutool":
        if not shutil.which("mutool"):
            pytest.skip("mutool (mupdf-tools) is not installed: make installs it")
        out = subprocess.run(["mutool", "draw", "-q", "-F", "txt", "-o", "-", str(pdf_path)],
                             capture_output=True, text=True, check=True).stdout
        return out.split("\f")
    if not shutil.which("node") or not (PDFJS / "node_modules" / "pdfjs-dist").is_dir():
        pytest.skip("node or pdfjs-dist is missing: `make test` installs pdf.js when npm is there")
    out = subprocess.run(["node", str(PDFJS / "text.mjs"), str(pdf_path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


# ---- the books -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(screen_pdf):
    return structure(screen_pdf)


PHOTOS = (lambda p: samples.camera_jpeg(p, (1600, 1200), seed=1),
          lambda p: samples.camera_jpeg(p, (1600, 1200), seed=2, orientation=6),
          lambda p: samples.cmyk_jpeg(p, seed=3),
          lambda p: samples.grey_jpeg(p, (800, 1100), seed=4))


def with_photos(catalogue, count):
    """Generated photos (camera JPEGs, one held sideways, a CMYK and a greyscale scan) in the
    first `count` JPEG slots of the catalogue's blocks, one per block; the rest stay
    placeholders. Returns the slots filled."""
    book = content.load(catalogue)
    filled = []
    for block in book.blocks():
        slots = [path for path in kinds.images_of(block) if path.endswith(".jpg")]
        if slots and len(filled) < count:
            target = book.images.joinpath(*Path(slots[0]).parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            PHOTOS[len(filled) % len(PHOTOS)](target)
            filled.append(slots[0])
    return filled


@pytest.fixture(scope="module")
def real_book_with_photos(tmp_path_factory):
    """The real catalogue with five generated photos, the other slots placeholders."""
    from typeset.build import build
    root = tmp_path_factory.mktemp("photos")
    catalogue = bench.copy_book(root)
    assert len(with_photos(catalogue, 5)) == 5
    return build(catalogue, root / "build", strict=True, pad=True, progress=lambda line: None)


@pytest.fixture
def every_kind(small_book):
    """The small book holding the first block of each kind the real catalogue uses (its
    Simplified clipping and letter for those kinds), the colophon last, photos in three
    slots."""
    first = {}
    for path in sorted(CATALOGUE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "blocks" not in data and "sections" not in data:
            continue
        for blocks in [data.get("blocks") or []] + [section.get("blocks") or []
                                                    for section in data.get("sections") or []]:
            for block in blocks:
                (kind, value), = block.items()
                simplified = isinstance(value, dict) and value.get("lang") == "zh-Hans"
                if kind not in first or (simplified and not first[kind][1]):
                    first[kind] = (block, simplified)
    assert set(first) == set(kinds.KINDS), set(kinds.KINDS) ^ set(first)
    assert first["clipping"][1] and first["letter"][1]
    blocks = [block for kind, (block, _) in sorted(first.items()) if kind != "colophon"]
    small_book.write("one.yaml", yaml.safe_dump(
        {"id": "one", "number": "一", "title": "第一章",
         "blocks": blocks + [first["colophon"][0]]}, allow_unicode=True, sort_keys=False))
    (small_book.catalogue / "two.yaml").unlink()
    small_book.book["chapters"] = [{"file": "one.yaml", "folio": 1}]
    small_book.write_book()
    assert len(with_photos(small_book.catalogue, 3)) == 3
    return small_book


# ---- veraPDF ---------------------------------------------------------------------------------

def test_the_screen_edition_is_pdf_ua1(screen_pdf):
    compliant, failed = verapdf(screen_pdf, "ua1")
    assert compliant and not failed, failed


@pytest.mark.parametrize("profile", ["ua2", "wt1a"])
def test_ua2_and_wtpdf_fail_only_what_a_pdf_17_file_cannot_meet(screen_pdf, profile):
    compliant, failed = verapdf(screen_pdf, profile)
    assert set(failed) == PDF_20_ONLY[profile], failed


def test_the_real_book_with_photos_is_pdf_ua1(real_book_with_photos):
    tree = structure(real_book_with_photos.paths["screen"])
    photos = [n for n in tree.walk() if n.kind == "Figure"
              and not str(n.element.get("/Alt", "")).startswith("圖片待補")]
    assert len(photos) >= 5  # the photos' Figures say their caption, not that they are missing
    compliant, failed = verapdf(real_book_with_photos.paths["screen"], "ua1")
    assert compliant and not failed, failed


def test_a_book_with_every_kind_is_pdf_ua1(every_kind):
    result = every_kind.build()
    compliant, failed = verapdf(result.paths["screen"], "ua1")
    assert compliant and not failed, failed
    tree = structure(result.paths["screen"])
    kinds_seen = {n.kind for n in tree.walk()}
    assert {"Figure", "Caption", "BlockQuote", "Art", "Table", "TH", "TD", "L", "LI", "Lbl",
            "LBody", "H1", "H2", "H3"} <= kinds_seen, kinds_seen


# ---- what a reader hears -----------------------------------------------------------------------

def test_heading_levels_never_skip(tree):
    levels = [int(n.kind[1]) for n in headings(tree)]
    assert levels[0] == 1
    skips = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert not skips


def test_every_chapter_section_and_heading_block_is_a_heading(tree):
    book = content.load(CATALOGUE)
    texts = [n.text for n in headings(tree)]
    sources = [c.title for c in book.chapters] + [s.title for c in book.chapters
                                                   for s in c.sections]
    sources += [b.fields["text"] for b in book.blocks() if b.kind == "heading"]
    missing = [s for s in sources if not any(s in t for t in texts)]
    assert not missing


@pytest.mark.parametrize("reader", ["pdftotext", "mutool", "pdf.js"])
def test_every_heading_reads_as_written(screen_pdf, tree, reader):
    """Letter-spaced titles, a chapter's number before its title: each heading's text is on
    its page as drawn, with no space added between its characters."""
    pages = read_pages(reader, screen_pdf)
    wrong = []
    for heading in headings(tree):
        written = heading.text  # the characters drawn: the source text
        assert written
        found = pages[heading.page].replace("\n", "")
        if written not in found:
            wrong.append((heading.page + 1, written))
    assert not wrong


def test_running_heads_folios_and_rules_are_artifacts(screen_pdf):
    """The margins' text (running heads, folios) and every rule and tint are artifacts; all
    other text is tagged content; paths are artifacts unless they draw a figure (a map)."""
    design = content.load(CATALOGUE).design
    top, bottom = (float(design[k].rstrip("m")) * MM for k in ("margin_top", "margin_bottom"))
    margins = 0
    with pdfplumber.open(screen_pdf) as pdf:
        for page in pdf.pages:
            for char in page.chars:
                in_margin = char["bottom"] < top or char["top"] > page.height - bottom
                margins += in_margin
                if in_margin:
                    assert char.get("tag") == "Artifact" and char.get("mcid") is None, \
                        (page.page_number, char["text"])
                else:
                    assert char.get("mcid") is not None or char.get("tag") == "Artifact", \
                        (page.page_number, char["text"])
    assert margins > 2 * 80  # a running head and a folio on most pages
    with pikepdf.open(screen_pdf) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            stack = []
            for operands, operator in pikepdf.parse_content_stream(page):
                name = str(operator)
                if name in ("BDC", "BMC"):
                    stack.append(str(operands[0]))
                elif name == "EMC":
                    stack.pop()
                elif name in ("S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh"):
                    assert stack and stack[-1] in ("/Artifact", "/Figure"), (number, name, stack)


def test_simplified_blocks_say_zh_hans(tree):
    book = content.load(CATALOGUE)
    simplified = [b for b in book.blocks() if b.lang == "zh-Hans"]
    assert len(simplified) >= 7
    for block in simplified:
        title = block.fields.get("title") or block.fields.get("headline")
        squeezed = "".join(str(title).split())  # a space at a line break is not drawn
        nodes = [n for n in tree.walk() if title and "".join(n.text.split()) == squeezed]
        assert nodes, title
        assert all(n.lang == "zh-Hans" for n in nodes), title
    assert tree.children[0].lang == "zh-Hant"


def test_figures_say_what_they_show_and_hold_their_caption_at_an_end(tree):
    figures = [n for n in tree.walk() if n.kind == "Figure"]
    assert len(figures) > 100
    for figure in figures:
        assert str(figure.element.get("/Alt", "")).strip(), figure.text
        kinds_in = [child.kind for child in figure.children]
        if "Caption" in kinds_in:
            assert kinds_in.index("Caption") in (0, len(kinds_in) - 1), kinds_in
    pending = [f for f in figures if str(f.element.Alt).startswith("圖片待補")]
    assert pending and all(not str(f.element.Alt).endswith("：") for f in pending)
    isbn = [f for f in figures if str(f.element.Alt).startswith("ISBN 978-")]
    assert len(isbn) == 1


def test_contents_entries_refer_to_their_sections_and_links_are_structure_destinations(
        screen_pdf, tree):
    entries = [n for n in tree.walk() if n.kind == "TOCI"]
    book = content.load(CATALOGUE)
    assert len(entries) == len(book.chapters) + sum(len(c.sections) for c in book.chapters)
    for entry in entries:
        (reference,) = entry.children
        assert reference.kind == "Reference" and reference.children[0].kind == "Link"
        target = entry.element.Ref[0]
        link = next(kid.Obj for kid in reference.children[0].element.K
                    if isinstance(kid, pikepdf.Dictionary) and "/Obj" in kid)
        assert str(target.ID) == str(link.Dest)
        assert str(target.S) == "/Sect"
        # Read as the entry (its leader a space), not as the id it links to.
        assert str(link.Contents) == re.sub(r"\.{3,}", " ", entry.text)
    with pikepdf.open(screen_pdf) as pdf:
        names = pikepdf.NameTree(pdf.Root.Names.Dests)
        for name, destination in names.items():
            assert destination.SD[0].ID == name
            assert destination.D[0].Type == "/Page"  # what viewers before PDF 2.0 read
        items, item = [], pdf.Root.Outlines.First
        while item is not None:
            items.append(item)
            item = item.get("/Next")
        assert items and all(i.A.SD[0].S == "/Sect" for i in items)


def test_table_headers_have_scope_and_cells_name_their_headers(tree):
    cells = [n for n in tree.walk() if n.kind in ("TH", "TD")]
    ids = {str(n.element.ID) for n in cells if n.kind == "TH"}
    assert ids and all(str(n.element.A.Scope) in ("/Column", "/Row")
                       for n in cells if n.kind == "TH")
    for cell in cells:
        if cell.kind == "TD" and "/Headers" in cell.element.A:
            assert {str(h) for h in cell.element.A.Headers} <= ids
    assert str(tree.pdf.Root.StructTreeRoot.IDTree.Names[0]) in ids | {
        str(n.element.ID) for n in tree.walk() if "/ID" in n.element}

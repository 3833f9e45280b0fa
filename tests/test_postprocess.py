"""Stage 4: page labels, outline and metadata; outputs replaced only by a good build."""

import subprocess
import sys

import pytest
from pypdf import PdfReader

from typeset.errors import ContentError


def test_page_labels_follow_the_printed_folios(small_book):
    result = small_book.build()
    labels = PdfReader(result.paths["print"]).page_labels
    front = result.manifest.front_pages
    assert labels[:front] == ["i", "ii", "iii", "iv"][:front]
    assert labels[front:front + 3] == ["01", "02", "03"]
    assert len(labels) == result.manifest.page_count


def test_outline_two_levels_opening_the_right_pages(small_book):
    result = small_book.build()
    reader = PdfReader(result.paths["screen"])
    outline = reader.outline
    top = [item for item in outline if not isinstance(item, list)]
    assert [item.title for item in top] == ["一．第一章", "二．第二章"]
    children = outline[2]
    assert [item.title for item in children] == ["（一）第一節"]
    pages = {e.title: e.page for e in result.manifest.entries}
    for item in top + children:
        assert reader.get_destination_page_number(item) == pages[item.title]


def test_metadata(small_book):
    reader = PdfReader(small_book.build().paths["print"])
    info = reader.metadata
    assert info.title.startswith("思源同心 攜手圓夢")
    assert info.author == "澳門特別行政區政府、中央人民政府駐澳門特別行政區聯絡辦公室"
    assert reader.trailer["/Root"]["/Lang"] == "zh-Hant"


def test_screen_edition_is_trimmed_print_edition_has_bleed(small_book):
    result = small_book.build()
    print_page = PdfReader(result.paths["print"]).pages[5]
    screen_page = PdfReader(result.paths["screen"]).pages[5]
    bleed = 3 * 72 / 25.4
    trim, bleed_box, media = print_page.trimbox, print_page.bleedbox, print_page.mediabox
    slug = (3 + 5 + 2) * 72 / 25.4  # marks offset + length + 2 mm
    for outer, size in ((bleed_box, bleed), (media, slug)):
        for side in ("left", "bottom"):
            assert float(getattr(trim, side) - getattr(outer, side)) == pytest.approx(size, abs=0.01)
        for side in ("right", "top"):
            assert float(getattr(outer, side) - getattr(trim, side)) == pytest.approx(size, abs=0.01)
    assert screen_page.mediabox == screen_page.trimbox


def test_outputs_are_ordinary_files(small_book):
    import os
    umask = os.umask(0)
    os.umask(umask)
    for path in small_book.build().paths.values():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_build_keeps_the_last_good_pdf(small_book):
    paths = small_book.build().paths
    before = {edition: path.read_bytes() for edition, path in paths.items()}
    small_book.write("two.yaml", "id: two\ntitle: 第二章\nblocks:\n  - figure: {image: x.jpg\n")
    with pytest.raises(ContentError):
        small_book.build()
    assert {edition: path.read_bytes() for edition, path in paths.items()} == before
    assert sorted(p.name for p in small_book.out.iterdir() if p.suffix == ".pdf") == sorted(
        p.name for p in paths.values())
    assert not [p for p in small_book.out.rglob("*") if p.name.endswith(".tmp")]


def test_cli_prints_one_line_and_exits_non_zero(small_book):
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - figur: {}\n")
    run = subprocess.run([sys.executable, "-m", "typeset", "build", "--catalogue",
                          str(small_book.catalogue), "--out", str(small_book.out)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line]
    assert len(errors) == 1 and "one.yaml:4:" in errors[0] and "`figure`" in errors[0]
    assert "Traceback" not in run.stderr


def test_editions_written_at_once_equal_those_written_one_by_one(small_book, monkeypatch):
    """The screen edition is written in a forked process while the print edition is written
    here: the bytes are those of a build that writes them one after the other."""
    small_book.book["production"] = {"cover": "separate"}
    small_book.write_book()
    together = {name: path.read_bytes() for name, path in small_book.build().paths.items()}
    monkeypatch.setenv("TYPESET_JOBS", "1")
    alone = {name: path.read_bytes() for name, path in small_book.build().paths.items()}
    assert set(together) == {"print", "screen", "cover", "imposed"}
    assert together == alone


def test_a_failure_in_a_forked_writer_is_raised_here():
    from typeset import forks

    def fails():
        raise ContentError("one.yaml", 3, "planted", "remove it")

    with pytest.raises(ContentError, match="one.yaml:3: planted"):
        forks.run({"here": lambda: 1, "there": fails})
    assert forks.run({"here": lambda: 1, "there": lambda: b"2" * 100_000}) == {
        "here": 1, "there": b"2" * 100_000}


def test_the_page_references_patch_changes_no_byte(small_book):
    """The patch pagerefs (typeset/engine/pagerefs.py) makes tagging linear in the page count; the tagged PDF is the same.
    Both are written from the same state (WeasyPrint changes its colour profiles while it
    writes): the unpatched one in a forked process."""
    import re as regex
    from typeset import content, engine, forks, render
    from typeset.engine import pagerefs, patches
    from typeset.session import Session
    rendered = render.render(content.load(small_book.catalogue), Session())

    def tagged():
        pdf = engine.write(rendered.document, "pdf/ua-1")
        return regex.sub(rb"D:\d{14}[^)]*|\d{4}-\d\d-\d\dT[\d:]+(?:[+-]\d\d:\d\d|Z)?", b"", pdf)

    def unpatched():
        with patches.uninstalled("pagerefs"):
            return tagged()

    written = forks.run({"patched": tagged, "unpatched": unpatched})
    assert "/StructTreeRoot" in PdfReader(__import__("io").BytesIO(written["patched"])).trailer["/Root"]
    assert written["patched"] == written["unpatched"]
    assert pagerefs.page_references.fget.__name__ == "_page_references"

"""Stage 4 and the report: planted problems are named with their folio, file:line and a fix."""

import json
import re
import subprocess
import sys

import pytest
from PIL import Image

from typeset.errors import ContentError


def kinds(findings, kind):
    return [f for f in findings if f.kind == kind]


def test_a_missing_photo_names_its_folio_and_line(small_book):
    result = small_book.build()
    [finding] = kinds(result.findings, "missing-image")
    assert finding.where == "folio 01 (one.yaml:6)" and "images/one/photo.jpg" in finding.message


def test_a_72_dpi_photo_is_a_warning_with_its_dpi(small_book):
    (small_book.images / "one").mkdir()
    Image.new("RGB", (460, 307), (30, 60, 90)).save(small_book.images / "one" / "photo.jpg",
                                                    dpi=(72, 72))
    [finding] = kinds(small_book.build().findings, "low-resolution")
    dpi = int(re.search(r"images/one/photo.jpg is (\d+) dpi", finding.message)[1])
    assert finding.where == "folio 01 (one.yaml:6)"  # the page and the content line
    assert 65 <= dpi <= 80 and "below 300 dpi" in finding.message


def test_text_too_long_for_its_box_overflows_the_page_area(small_book):
    small_book.write("two.yaml", "id: two\nnumber: 二\ntitle: 第二章\nblocks:\n"
                                 "  - paragraph: 網址 " + "x" * 400 + "\n")
    result = small_book.build(strict=False)
    [finding] = kinds(result.findings, "overflow")
    assert finding.level == "error" and finding.where == "folio 03 (two.yaml:5)"
    assert "mm past the page area at the right" in finding.message


def test_a_character_no_font_has_stops_before_rendering(small_book):
    small_book.write("two.yaml", "id: two\nnumber: 二\ntitle: 第二章\nblocks:\n"
                                 "  - paragraph: 字\U00031350字\n")
    with pytest.raises(ContentError, match=r"two.yaml:5: .*U\+31350"):
        small_book.build()


def plan_line(small_book, name):
    lines = (small_book.catalogue / "book.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if name in line)


def test_folio_drift_is_an_error_at_the_plan_naming_both_folios(small_book):
    small_book.book["chapters"][1]["folio"] = 5
    small_book.write_book()
    result = small_book.build(strict=False)
    [finding] = kinds(result.findings, "folio-plan")
    assert finding.where == f"book.yaml:{plan_line(small_book, 'two.yaml')}"
    assert "(two.yaml)" in finding.message
    assert "starts on folio 03, planned 05: the pages before it fall short — lengthen them " \
        "by 1 to 2 pages, or plan it on 03" in finding.message


def test_a_chapter_planned_on_a_verso_is_told_the_rectos_around_it(small_book):
    small_book.book["chapters"][1]["folio"] = 4
    small_book.write_book()
    [finding] = kinds(small_book.build(strict=False).findings, "folio-plan")
    assert "planned on folio 04, a verso, but it opens on a recto — plan 03 or 05 (it lands " \
        "on 03 now)" in finding.message


def test_cmyk_and_unused_images(small_book):
    (small_book.images / "one").mkdir()
    Image.new("CMYK", (2400, 1600), (0, 50, 100, 0)).save(small_book.images / "one" / "photo.jpg")
    Image.new("RGB", (10, 10)).save(small_book.images / "one" / "forgotten.png")
    findings = small_book.build().findings
    assert [f.where for f in kinds(findings, "colour-mode")] == ["images/one/photo.jpg (one.yaml:6)"]
    assert [f.where for f in kinds(findings, "unused-image")] == ["images/one/forgotten.png"]


def test_queries_are_listed_for_the_editor(small_book):
    (small_book.catalogue / "queries.yaml").write_text(
        "- {file: one.yaml, where: paragraph 1, what: '頑疾 or 頑症?', suggestion: keep}\n",
        encoding="utf-8")
    [query] = kinds(small_book.build().findings, "query")
    assert query.level == "info" and query.where == "one.yaml: paragraph 1"


def test_the_written_pdfs_pass_the_output_checks(small_book):
    findings = small_book.build().findings
    assert [f for f in findings if f.kind in ("font", "boxes", "ink")] == []
    [intent] = kinds(findings, "output-intent")  # the stand-in profile, said once
    assert intent.level == "warning" and intent.where == "small-print.pdf"
    assert [f.message for f in kinds(findings, "isbn")] == ["no ISBN yet — set it with make isbn ISBN=…"]


def test_report_files_and_strict_exit_codes(small_book):
    command = [sys.executable, "-m", "typeset", "check", "--pad", "--catalogue",
               str(small_book.catalogue), "--out", str(small_book.out)]
    warnings_only = subprocess.run(command + ["--strict"], capture_output=True, text=True)
    assert warnings_only.returncode == 0, warnings_only.stderr
    assert "missing-image" in warnings_only.stdout and "images/one/photo.jpg" in warnings_only.stderr
    report = json.loads((small_book.out / "preflight.json").read_text(encoding="utf-8"))
    assert report["counts"]["warning"] >= 1
    assert "missing-image" in (small_book.out / "preflight.html").read_text(encoding="utf-8")
    small_book.book["chapters"][1]["folio"] = 5
    small_book.write_book()
    drift = subprocess.run(command + ["--strict"], capture_output=True, text=True)
    assert drift.returncode == 1 and "planned 05" in drift.stderr
    assert json.loads((small_book.out / "preflight.json").read_text())["counts"]["error"] == 1


def test_a_screen_edition_over_its_budget_is_a_warning(small_book):
    """The web file has a size budget (production.screen_budget_mb): over it, preflight says
    which tokens to lower."""
    small_book.book["production"] = {"screen_budget_mb": 0.05}
    small_book.write_book()
    result = small_book.build(strict=True)  # a warning does not stop a strict build
    over = [f for f in result.findings if f.kind == "screen-size"]
    size = result.paths["screen"].stat().st_size / 1e6
    assert len(over) == 1 and over[0].level == "warning"
    assert f"{size:.1f} MB, over the screen edition's budget of 0.05 MB" in over[0].message
    assert "screen_dpi (150)" in over[0].message
    small_book.book["production"] = {"screen_budget_mb": 100}
    small_book.write_book()
    assert not [f for f in small_book.build().findings if f.kind == "screen-size"]


@pytest.mark.parametrize("lines_before, kind", [(1.4, "orphan"), (3.4, "widow")])
def test_a_paragraph_split_with_one_line_alone_is_named(small_book, lines_before, kind):
    """The stylesheets keep two lines on each side of a page break; where a layout still leaves
    one (planted here by switching that off), preflight names the page and the line."""
    from typeset import content, engine, html, preflight, render
    from typeset.model import Manifest, Rendered
    from typeset.session import Session
    book = content.load(small_book.catalogue)
    line_mm = 10.5 * 1.8 * 25.4 / 72
    room = (285 - 22 - 24) - lines_before * line_mm  # the type area, less the room left
    source = f"""<html lang="zh-Hant"><head><style>p {{ orphans: 1; widows: 1 }}</style></head>
      <body><div style="height: {room:.2f}mm"></div>
      <p class="paragraph" data-source="one.yaml:7">{"貧困是人類社會的頑疾。" * 12}</p></body></html>"""
    document, _ = render.lay_out(book, Session(), source,
                                 html.tokens_css(book, first_page_number=1))
    assert len(document.pages) == 2
    manifest = Manifest(front_pages=0, page_count=2, entries=[])
    found = preflight.widows_and_orphans(
        Rendered(document, manifest, [], pages=engine.facts.read(document.pages)))
    assert [f.kind for f in found] == [kind]
    assert found[0].where == ("folio 01 (one.yaml:7)" if kind == "orphan"
                              else "folio 02 (one.yaml:7)")
    assert "1 line" in found[0].message


def test_the_catalogue_has_no_widow_or_orphan(catalogue_build):
    assert not [f for f in catalogue_build.findings if f.kind in ("widow", "orphan")]


def test_a_paragraph_ending_with_one_character_alone_is_named(small_book):
    """The text runs keep a paragraph's last two characters together; a paragraph that still
    ends with one alone (planted here in raw HTML) is named with its page and line."""
    from typeset import content, engine, html, preflight, render
    from typeset.model import Manifest, Rendered
    from typeset.session import Session
    book = content.load(small_book.catalogue)
    first_line = "貧" * 41  # what the first line holds after the paragraph's indent
    source = f"""<html lang="zh-Hant"><body>
      <p class="paragraph" data-source="one.yaml:7">{first_line}困</p>
      <p class="paragraph" data-source="one.yaml:8">{first_line}困難</p></body></html>"""
    document, _ = render.lay_out(book, Session(), source,
                                 html.tokens_css(book, first_page_number=1))
    manifest = Manifest(front_pages=0, page_count=len(document.pages), entries=[])
    found = preflight.lone_last_characters(
        Rendered(document, manifest, [], pages=engine.facts.read(document.pages)))
    assert [(f.kind, f.where) for f in found] == [("lone-character", "folio 01 (one.yaml:7)")]
    assert "`困`" in found[0].message


def test_a_page_that_stops_short_inside_a_chapter_is_named(small_book):
    """A planted short page: a paragraph, then a page break inside the chapter. The chapter's
    last page may end short (its next page opens a chapter); that one is not named."""
    small_book.write("one.yaml", """
        id: one
        number: 一
        title: 第一章
        blocks:
          - paragraph: 貧困是人類社會的頑疾。
          - pagebreak: page
          - paragraph: 反貧困始終是古今中外治國安邦的一件大事。
        """)
    small_book.book["chapters"][1]["folio"] = 5
    small_book.write_book()
    result = small_book.build(strict=False)
    [finding] = kinds(result.findings, "underfull")
    assert finding.level == "warning" and finding.where.startswith("folio 01 (one.yaml:")
    assert "ends at" in finding.message and "fill_min 75%" in finding.message
    small_book.book["production"] = {"fill_min": 5}
    small_book.write_book()
    assert kinds(small_book.build(strict=False).findings, "underfull") == []


def test_photos_a_screen_reader_cannot_name_are_listed_for_the_editor(small_book):
    """A gallery photo with no caption or alt, and a divider with no alt, are read only as
    「<section>：照片」: each is an info finding at its block's line; an `alt` silences it."""
    text = (small_book.catalogue / "one.yaml").read_text(encoding="utf-8")
    small_book.write("one.yaml", text + "  - gallery:\n      photos:\n"
                     "        - image: images/one/street.jpg\n"
                     "  - divider: images/one/divider.jpg\n")
    found = kinds(small_book.build(strict=False).findings, "no-alt")
    assert [(f.level, f.where) for f in found] == [("info", "one.yaml:9"),
                                                    ("info", "one.yaml:12")]
    assert "street.jpg" in found[0].message and "divider.jpg" in found[1].message
    small_book.write("one.yaml", text + "  - gallery:\n      photos:\n"
                     "        - image: images/one/street.jpg\n          alt: 一條街\n"
                     "  - divider:\n      image: images/one/divider.jpg\n      alt: 山景\n")
    assert kinds(small_book.build(strict=False).findings, "no-alt") == []

"""Stage 1: content loads into the model, and bad content is a ContentError at file:line."""

import pytest

from typeset import content, kinds
from typeset.errors import ContentError


def load_error(small_book):
    with pytest.raises(ContentError) as caught:
        content.load(small_book.catalogue)
    return caught.value


def test_real_catalogue_loads_in_book_order():
    from conftest import CATALOGUE
    book = content.load(CATALOGUE)
    assert [c.title for c in book.chapters][:3] == ["前言", "從江簡況", "推動幫扶"]
    assert all(block.kind in kinds.KINDS for block in book.blocks())


def test_shorthand_and_defaults(small_book):
    book = content.load(small_book.catalogue)
    paragraph, figure = book.chapters[0].blocks
    assert paragraph.kind == "paragraph" and paragraph.fields["text"] == "貧困是人類社會的頑疾。"
    assert figure.fields["size"] == "full" and figure.fields["shape"] == "landscape"
    assert figure.line == 6
    assert [s.id for s in book.chapters[1].sections] == ["two-a"]


def test_yaml_syntax_error_names_file_and_line(small_book):
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - paragraph: [未完\n")
    error = load_error(small_book)
    assert error.file.name == "one.yaml" and error.line >= 4
    assert "YAML syntax error" in str(error)


def test_unknown_kind_suggests_the_closest(small_book):
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - paragrap: 文字\n")
    error = load_error(small_book)
    assert (error.file.name, error.line) == ("one.yaml", 4)
    assert "unknown block kind `paragrap`" in str(error) and "`paragraph`" in error.hint


def test_missing_caption_is_an_error(small_book):
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n"
                                 "  - figure:\n      image: images/one/a.jpg\n")
    error = load_error(small_book)
    assert (error.file.name, error.line) == ("one.yaml", 4)
    assert "missing required field `caption`" in str(error)


def test_unknown_field_suggests_the_closest(small_book):
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - figure:\n"
                                 "      image: images/one/a.jpg\n      captoin: 說明\n")
    error = load_error(small_book)
    assert error.line == 6 and "`caption`" in error.hint


def test_wrong_type(small_book):
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - gallery:\n"
                                 "      photos: images/one/a.jpg\n")
    error = load_error(small_book)
    assert error.line == 5 and "expected a list" in str(error)


def test_unlisted_chapter_file_is_an_error(small_book):
    small_book.write("three.yaml", "id: three\ntitle: 三\n")
    error = load_error(small_book)
    assert error.file.name == "three.yaml" and "not listed in book.yaml" in str(error)


def test_listed_file_that_is_missing_is_an_error(small_book):
    (small_book.catalogue / "two.yaml").unlink()
    error = load_error(small_book)
    assert error.file.name == "book.yaml" and "`two.yaml` does not exist" in str(error)
    assert error.line > 0


def test_duplicate_ids(small_book):
    small_book.write("two.yaml", "id: one\ntitle: 第二章\n")
    error = load_error(small_book)
    assert "used twice" in str(error) and error.file.name == "two.yaml"


def test_image_outside_the_images_folder(small_book):
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - figure:\n"
                                 "      image: ../../etc/passwd.jpg\n      caption: 說明\n")
    assert "outside the book's images folder" in str(load_error(small_book))


def test_table_cells_with_spans(small_book):
    small_book.write("one.yaml", """id: one
title: 第一章
blocks:
  - table:
      columns: [從江學校, 澳門學校]
      rows:
        - [第二民族高級中學, {text: 濠江中學, rowspan: 2}]
        - [洛香中心小學]
        - [[兩行, 文字], 1]
""")
    table = content.load(small_book.catalogue).chapters[0].blocks[0]
    rows = table.fields["rows"]
    assert rows[0][1] == {"lines": ["濠江中學"], "rowspan": 2, "colspan": 1}
    assert rows[2][0]["lines"] == ["兩行", "文字"] and rows[2][1]["lines"] == ["1"]


def test_planned_section_that_does_not_exist(small_book):
    small_book.book["chapters"][1]["sections"] = {"nowhere": 5}
    small_book.write_book()
    error = load_error(small_book)
    assert "section `nowhere`" in str(error) and error.file.name == "book.yaml"

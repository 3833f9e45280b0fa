"""Stage 2: every character is in the fonts book.yaml names; a missing one is a content error."""

import shutil
import subprocess

import pytest

from typeset import content, fonts
from typeset.errors import BuildError, ContentError


def test_the_real_catalogue_is_covered():
    from conftest import CATALOGUE
    fonts.check_coverage(content.load(CATALOGUE))


def test_a_character_no_font_has_is_an_error_at_its_line(small_book):
    # U+30000, CJK Extension G: in no installed font.
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n"
                                 "  - paragraph: 澳門\U00030000字\n")
    with pytest.raises(ContentError) as caught:
        fonts.check_coverage(content.load(small_book.catalogue))
    error = caught.value
    assert (error.file.name, error.line) == ("one.yaml", 4)
    assert "U+30000" in str(error) and "Noto Serif CJK TC" in str(error)


def test_simplified_text_is_checked_against_the_simplified_fonts(small_book):
    book = content.load(small_book.catalogue)
    faces = {fonts.find(book.design["fonts"][role]).family for role in fonts.ROLES["zh-Hans"]}
    assert faces == {"Noto Serif CJK SC", "Noto Sans CJK SC"}


def test_a_font_that_is_not_installed(small_book):
    small_book.book["design"]["fonts"]["body"] = "No Such Font"
    small_book.write_book()
    with pytest.raises(BuildError, match="`No Such Font` is not installed"):
        fonts.check_coverage(content.load(small_book.catalogue))


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="pdffonts (poppler-utils) is absent")
@pytest.mark.parametrize("edition", ["print", "screen"])
def test_only_the_named_families_are_embedded(edition, catalogue_build):
    from conftest import CATALOGUE
    book = content.load(CATALOGUE)
    named = {family.replace(" ", "-") for family in book.design["fonts"].values()}
    listing = subprocess.run(["pdffonts", str(catalogue_build.paths[edition])],
                             capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    embedded = {line.split()[0].split("+", 1)[-1].removesuffix("-Bold") for line in listing}
    assert embedded and embedded <= named, embedded - named
    for line in listing:  # … emb sub uni object-id: embedded and subset
        assert line.split()[-5:-3] == ["yes", "yes"], line

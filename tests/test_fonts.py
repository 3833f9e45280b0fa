"""Stage 2: every character is in the fonts book.yaml names; a missing one is a content error."""

import shutil
import subprocess

import pytest
import yaml
from conftest import CATALOGUE

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
    installed = fonts.Installed()
    faces = {installed.find(book.design["fonts"][role]).family for role in fonts.ROLES["zh-Hans"]}
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


def test_character_maps_are_kept_between_builds(tmp_path, monkeypatch):
    """A CJK face's character map is read once and kept in the build's cache: the next
    build (a new process) reads the code points from there, not the font."""
    face = fonts.Installed().find(yaml.safe_load((CATALOGUE / "book.yaml").read_text(encoding="utf-8"))
                      ["design"]["fonts"]["body"])
    fresh = fonts.characters(face)
    assert fonts.characters(face, tmp_path) == fresh
    assert len(list(tmp_path.glob("*.cmap"))) == 1
    monkeypatch.setattr(fonts, "TTFont", lambda *args, **kwargs: 1 / 0)  # the font unread
    assert fonts.characters(face, tmp_path) == fresh
    assert "貧" in fresh and "\U00031350" not in fresh

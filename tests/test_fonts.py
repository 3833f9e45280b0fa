"""Stage 2: every character is in the fonts book.yaml names; a missing one is a content error."""

import shutil
import subprocess

import pytest
import yaml
from conftest import CATALOGUE

from typeset import content, fonts
from typeset.errors import ContentError


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
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n"
                                 "  - paragraph: {text: 澳门, lang: zh-Hans}\n")
    book = content.load(small_book.catalogue)
    installed = fonts.Installed()
    (_, roles, _), = [found for found in fonts.texts(book) if found[0] == "澳门"]
    faces = {installed.find(book.design["fonts"][role]).family for role in roles}
    assert faces == {"Noto Serif CJK SC", "Noto Sans CJK SC"}


def test_every_text_that_reaches_a_page_or_the_metadata_is_checked(small_book):
    """The book's title, a chapter's title and a label are checked too, each at its line."""
    for where, edit in (("book.yaml", lambda: small_book.book.update(title="書\U00030000")),
                        ("one.yaml", lambda: small_book.write(
                            "one.yaml", "id: one\ntitle: 第\U00030000章\nblocks: []\n")),
                        ("labels.yaml", lambda: (small_book.catalogue / "labels.yaml").write_text(
                            (small_book.catalogue / "labels.yaml").read_text(encoding="utf-8")
                            .replace("contents: 目錄", "contents: 目\U00030000"),
                            encoding="utf-8"))):
        edit()
        small_book.write_book()
        with pytest.raises(ContentError) as caught:
            fonts.check_coverage(content.load(small_book.catalogue))
        assert caught.value.file.name == where and "U+30000" in str(caught.value), where
        small_book.book["title"] = "思源同心"
        small_book.write_book()
        small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks: []\n")
        labels = small_book.catalogue / "labels.yaml"
        labels.write_text(labels.read_text(encoding="utf-8").replace("目\U00030000", "目錄"),
                          encoding="utf-8")


def test_an_english_passage_needs_the_latin_faces(small_book):
    small_book.book["design"]["fonts"].pop("latin", None)
    small_book.book["design"]["fonts"].pop("latin_heading", None)
    small_book.write_book()
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n"
                                 "  - paragraph: 澳門 [Macao]{lang=en}\n")
    with pytest.raises(ContentError) as caught:
        fonts.check_coverage(content.load(small_book.catalogue))
    assert (caught.value.file.name, caught.value.line) == ("one.yaml", 4)
    assert "`latin`" in str(caught.value)


def test_a_font_that_is_not_installed(small_book):
    small_book.book["design"]["fonts"]["body"] = "No Such Font"
    small_book.write_book()
    with pytest.raises(ContentError, match="design.fonts.body: font `No Such Font` is not "
                       "installed") as caught:
        fonts.check_coverage(content.load(small_book.catalogue))
    assert caught.value.file.name == "book.yaml"
    lines = (small_book.catalogue / "book.yaml").read_text(encoding="utf-8").splitlines()
    assert "No Such Font" in lines[caught.value.line - 1]


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


def test_a_new_process_checks_only_the_texts_that_changed(small_book, tmp_path, monkeypatch):
    """The texts a build found covered are kept (by their text and their faces' files): a new
    process reads no character map for them, and a new text is checked all the same."""
    cache = tmp_path / "fonts"
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - paragraph: 澳門\n")
    fonts.check_coverage(content.load(small_book.catalogue), cache, fonts.Installed())
    assert (cache / "covered.bin").is_file()
    read = []
    monkeypatch.setattr(fonts.Installed, "characters",
                        lambda self, face, cache_dir=None: read.append(face) or frozenset("從江"))
    fonts.check_coverage(content.load(small_book.catalogue), cache, fonts.Installed())
    assert read == []  # every text known: no map read
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - paragraph: 澳門從江\n")
    with pytest.raises(ContentError) as caught:  # the stand-in maps lack 澳 and 門
        fonts.check_coverage(content.load(small_book.catalogue), cache, fonts.Installed())
    assert (caught.value.file.name, caught.value.line) == ("one.yaml", 4) and read

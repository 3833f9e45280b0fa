"""Fixtures: the real catalogue built once per session, and small books made in tmp_path."""

import os
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from typeset.build import build

PROJECT = Path(__file__).resolve().parent.parent
# A fixed epoch, whatever `make` exports: builds are reproducible and match tests/reference.
os.environ["SOURCE_DATE_EPOCH"] = "1609459200"
CATALOGUE = PROJECT / "catalogue"


@pytest.fixture(scope="session")
def catalogue_build(tmp_path_factory):
    """The real catalogue, built once, strictly (a WeasyPrint warning or a folio drift fails
    it), padded to the binding as `make` does; many tests read its PDFs."""
    out = tmp_path_factory.mktemp("build")
    return build(CATALOGUE, out, strict=True, pad=True, progress=lambda line: None)


@pytest.fixture(scope="session")
def print_pdf(catalogue_build):
    return catalogue_build.paths["print"]


@pytest.fixture(scope="session")
def screen_pdf(catalogue_build):
    return catalogue_build.paths["screen"]


class SmallBook:
    """A small book in tmp_path with the real design tokens and labels: two chapters."""

    def __init__(self, root):
        self.root = root
        self.catalogue = root / "catalogue"
        self.images = root / "images"
        self.out = root / "build"
        self.catalogue.mkdir()
        self.images.mkdir()
        shutil.copy(CATALOGUE / "labels.yaml", self.catalogue)
        real = yaml.safe_load((CATALOGUE / "book.yaml").read_text(encoding="utf-8"))
        self.book = {key: real[key] for key in ("slug", "title", "subtitle", "year", "language",
                                                "locale", "organisers", "design")}
        self.book["slug"] = "small"
        self.book["chapters"] = [{"file": "one.yaml", "folio": 1}, {"file": "two.yaml", "folio": 3}]
        self.write_book()
        self.write("one.yaml", """
            id: one
            number: 一
            title: 第一章
            blocks:
              - paragraph: 貧困是人類社會的頑疾。
              - figure:
                  image: images/one/photo.jpg
                  caption: 一張照片的說明。
            """)
        self.write("two.yaml", """
            id: two
            number: 二
            title: 第二章
            blocks:
              - heading: 小標題
              - paragraph: 第二章的文字。
            sections:
              - id: two-a
                number: （一）
                title: 第一節
                blocks:
                  - paragraph: 第一節的文字。
            """)

    def write_book(self):
        (self.catalogue / "book.yaml").write_text(
            yaml.safe_dump(self.book, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def write(self, name, text):
        path = self.catalogue / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def build(self, strict=True, pad=True):
        """Build strictly (in tests, a WeasyPrint warning is a failure), padded as make does."""
        return build(self.catalogue, self.out, strict=strict, pad=pad, progress=lambda line: None)


@pytest.fixture
def small_book(tmp_path):
    return SmallBook(tmp_path)

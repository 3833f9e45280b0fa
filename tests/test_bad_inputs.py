"""The corpus of bad inputs (tests/bad_inputs/): each ends in one clear line, never a traceback.

Each case is a folder laid over the small book of conftest.py (see tests/bad_inputs/README.md):
its files replace or add the book's files, `remove.txt` lists files to delete and `links.txt`
symbolic links to make (`link -> target`). `expected.txt` holds the text that the one-line
error must contain, with its file:line.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from typeset import cli
from typeset.errors import BuildError, ContentError

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(path for path in CORPUS.iterdir() if path.is_dir())
SPECIAL = {"expected.txt", "remove.txt", "links.txt"}


def lay_over(case, root):
    """Copy the case's files onto the book at `root`, then delete and link as it says."""
    for source in sorted(case.rglob("*")):
        relative = source.relative_to(case)
        if source.is_dir() or str(relative) in SPECIAL:
            continue
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for line in _lines(case / "remove.txt"):
        (root / line).unlink()
    for line in _lines(case / "links.txt"):
        link, target = (part.strip() for part in line.split("->"))
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)


def _lines(path):
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def expected(case):
    return (case / "expected.txt").read_text(encoding="utf-8").strip()


def test_the_corpus_is_large_and_complete():
    assert len(CASES) >= 25
    for case in CASES:
        text = expected(case)
        assert "\n" not in text and re.search(r"\.(yaml|svg|jpg|png):\d+: ", text), case.name


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_clear_line(case, small_book, capsys):
    lay_over(case, small_book.root)
    with pytest.raises((ContentError, BuildError)) as caught:
        small_book.build()
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    assert expected(case) in message, message
    assert " — " in message  # what is wrong — how to fix it
    # The command line says the same in one line, and exits 1.
    capsys.readouterr()
    assert cli.main(["build", "--catalogue", str(small_book.catalogue),
                     "--out", str(small_book.out), "--strict", "--pad"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert errors == [f"error: {message}"]
    assert not list(small_book.out.glob("*.pdf"))

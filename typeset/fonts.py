"""Stage 2 — fonts: every character of the content is in the fonts book.yaml names for it.

Checked before rendering, against the fonts' own character maps (fontTools): a character the
chosen face lacks would print as a box (tofu) or, worse, silently in another installed font.
"""

import functools
import subprocess
from dataclasses import dataclass

from fontTools.ttLib import TTFont

from .errors import BuildError, ContentError

# Which design-token fonts set the text of a block, by the block's language and kind.
ROLES = {None: ("body", "heading"), "zh-Hans": ("body_simplified", "heading_simplified")}
INSCRIPTION_ROLES = ("inscription", "heading")
IGNORED = {"\n", "\t", " ", "\u00a0"}


@dataclass(frozen=True)
class Face:
    family: str
    path: str
    index: int


@functools.lru_cache(maxsize=None)
def find(family):
    """The installed file of a font family (fontconfig), or a BuildError saying what to install."""
    try:
        found = subprocess.run(["fc-match", "-f", "%{family}|%{file}|%{index}", f"{family}:regular"],
                               capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise BuildError(f"cannot look up fonts with fc-match ({error}): install fontconfig")
    families, path, index = found.rsplit("|", 2)
    if family not in families.split(","):
        raise BuildError(f"font `{family}` is not installed (fontconfig offers {families}) — "
                         "install it (make installs fonts-noto-cjk and fonts-arphic-ukai) or "
                         "name an installed family in book.yaml's design.fonts")
    return Face(family, path, int(index))


@functools.lru_cache(maxsize=None)
def characters(face):
    """The set of characters the face has a glyph for."""
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    try:
        return frozenset(map(chr, font.getBestCmap()))
    finally:
        font.close()


def check_coverage(book):
    """Stage 2: raise ContentError at the first character a block's fonts do not have."""
    fonts = book.design["fonts"]
    for block in book.blocks():
        roles = INSCRIPTION_ROLES if block.kind == "inscription" else ROLES[block.lang]
        faces = [find(fonts[role]) for role in roles]
        for text in _texts(block.fields):
            for char in text:
                if char in IGNORED:
                    continue
                missing = [face.family for face in faces if char not in characters(face)]
                if missing:
                    raise ContentError(
                        block.file, block.line,
                        f"character {char} (U+{ord(char):04X}) is not in {', '.join(missing)}",
                        "replace it (or an image of it), or name a font that has it in "
                        "book.yaml's design.fonts")
    return book


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("image", "portrait", "size", "shape", "side"):
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)

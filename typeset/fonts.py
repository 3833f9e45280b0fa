"""Stage 2 — fonts: every character of the content is in the fonts book.yaml names for it.

Checked before rendering, against the fonts' own character maps (fontTools): a character the
chosen face lacks would print as a box (tofu) or, worse, silently in another installed font.
Which text a block prints, and in which font roles, comes from its kind (kinds.py).
"""

import array
import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.ttLib import TTFont

from . import files
from .errors import BuildError, ContentError
from .kinds import KINDS, texts_of

# The font roles (design.fonts) that set a block's text, by the block's language; a kind may
# name its own (an inscription: the inscription face and the heading face).
ROLES = {None: ("body", "heading"), "zh-Hans": ("body_simplified", "heading_simplified")}
IGNORED = {"\n", "\t", " ", "\u00a0"}


@dataclass(frozen=True)
class Face:
    family: str
    path: str
    index: int


@dataclass
class Installed:
    """The installed fonts as fontconfig and their files say, looked up once per session."""

    found: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    maps: dict = field(default_factory=dict)

    def find(self, family):
        """The installed file of a font family (fontconfig), or a BuildError saying what to
        install."""
        if family not in self.found:
            self.found[family] = _find(family)
        return self.found[family]

    def files_state(self, family):
        """The state of the folder that holds a family's files (names, sizes, times; the bold
        faces are other files there): what is kept from its fonts goes stale when it
        changes."""
        if family not in self.states:
            folder = Path(self.find(family).path).parent
            self.states[family] = tuple(
                (path.name, path.stat().st_size, path.stat().st_mtime_ns)
                for path in sorted(folder.iterdir()) if path.is_file())
        return self.states[family]

    def characters(self, face, cache_dir=None):
        """The set of characters the face has a glyph for (see `characters`)."""
        if face not in self.maps:
            self.maps[face] = characters(face, cache_dir)
        return self.maps[face]


def _find(family):
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


def characters(face, cache_dir=None):
    """The set of characters the face has a glyph for. Reading a CJK face's character map
    takes a tenth of a second; with `cache_dir` the code points are kept there, by the font
    file's path, size and time, for the next build."""
    cached = None
    if cache_dir is not None:
        stat = Path(face.path).stat()
        key = hashlib.sha256(f"{face.path}|{face.index}|{stat.st_size}|{stat.st_mtime_ns}"
                             .encode()).hexdigest()[:32]
        cached = Path(cache_dir) / f"{key}.cmap"
        if cached.is_file():
            points = array.array("I")
            points.frombytes(cached.read_bytes())
            return frozenset(map(chr, points))
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    try:
        points = array.array("I", sorted(font.getBestCmap()))
    finally:
        font.close()
    if cached is not None:
        files.write_atomically(cached, points.tobytes())
    return frozenset(map(chr, points))


def roles(block):
    """The font roles that set a block's text."""
    return KINDS[block.kind].fonts or ROLES[block.lang]


def check_coverage(book, cache_dir=None, installed=None):
    """Stage 2: raise ContentError at the first character a block's fonts do not have.
    `cache_dir`: where the fonts' character maps are kept between builds; `installed`: the
    session's font lookups."""
    installed = installed or Installed()
    fonts = book.design["fonts"]
    for block in book.blocks():
        faces = [installed.find(fonts[role]) for role in roles(block)]
        for text in texts_of(block):
            for char in text:
                if char in IGNORED:
                    continue
                missing = [face.family for face in faces
                           if char not in installed.characters(face, cache_dir)]
                if missing:
                    raise ContentError(
                        block.file, block.line,
                        f"character {char} (U+{ord(char):04X}) is not in {', '.join(missing)}",
                        "replace it (or an image of it), or name a font that has it in "
                        "book.yaml's design.fonts")
    return book

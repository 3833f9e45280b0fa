"""Stage 2 — fonts: every character of the content is in the fonts book.yaml names for it.

Checked before rendering, against the fonts' own character maps (fontTools): a character the
chosen face lacks would print as a box (tofu) or, worse, silently in another installed font.
"""

import array
import functools
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

from . import cache
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
def files_state(family):
    """The state of the folder that holds a family's files (names, sizes, times; the bold
    faces are other files there): what is kept from its fonts goes stale when it changes."""
    folder = Path(find(family).path).parent
    return tuple((path.name, path.stat().st_size, path.stat().st_mtime_ns)
                 for path in sorted(folder.iterdir()) if path.is_file())


@functools.lru_cache(maxsize=None)
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
        cache.keep(cached, points.tobytes())
    return frozenset(map(chr, points))


def check_coverage(book, cache_dir=None):
    """Stage 2: raise ContentError at the first character a block's fonts do not have.
    `cache_dir`: where the fonts' character maps are kept between builds."""
    fonts = book.design["fonts"]
    for block in book.blocks():
        roles = INSCRIPTION_ROLES if block.kind == "inscription" else ROLES[block.lang]
        faces = [find(fonts[role]) for role in roles]
        for text in _texts(block.fields):
            for char in text:
                if char in IGNORED:
                    continue
                missing = [face.family for face in faces
                           if char not in characters(face, cache_dir)]
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

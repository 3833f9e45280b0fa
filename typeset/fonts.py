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

from . import files, languages, typography
from .errors import BuildError, ContentError
from .kinds import KINDS, texts_of

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
    # Digests of the texts found whole, each with its faces' files: the last build's (read
    # from the cache once per session), then this session's (found_whole). Not checked again.
    covered: set | None = None
    written: frozenset = frozenset()  # those the cache holds

    def find(self, family):
        """The installed file of a font family (fontconfig), or a BuildError saying what to
        install."""
        if family not in self.found:
            self.found[family] = _found(family, _fc_match(family))
        return self.found[family]

    def find_all(self, families):
        """find() for several families, fontconfig asked for all of them at once (one
        fc-match each, 20 ms apiece when asked in turn)."""
        asked = {family: _fc_match(family, wait=False)
                 for family in sorted(set(families)) if family not in self.found}
        failed = None
        for family, running in asked.items():  # every answer awaited, then the first error
            try:
                self.found[family] = _found(family, running)
            except BuildError as error:
                failed = failed or error
        if failed:
            raise failed

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

    def found_whole(self, cache_dir):
        """`covered`, the last build's read from `cache_dir` at the session's first build: a
        new process then checks only what changed, without reading a character map (0.3 s)."""
        if self.covered is None:
            self.covered = set()
            if cache_dir is not None:
                try:
                    data = (Path(cache_dir) / "covered.bin").read_bytes()
                except OSError:
                    data = b""
                self.written = frozenset(data[at:at + 16] for at in range(0, len(data) - 15, 16))
                self.covered = set(self.written)
        return self.covered

    def remember(self, cache_dir, used):
        """Keep the digests of this build's texts (all found whole) for the next process."""
        used = frozenset(used)
        if cache_dir is not None and used != self.written:
            files.write_cache(Path(cache_dir) / "covered.bin", b"".join(sorted(used)))
            self.written = used

    def characters(self, face, cache_dir=None):
        """The set of characters the face has a glyph for (see `characters`)."""
        if face not in self.maps:
            self.maps[face] = characters(face, cache_dir)
        return self.maps[face]


def _fc_match(family, wait=True):
    """fc-match's answer for a family's regular face, or (wait=False) the running fc-match
    that gives it (_found waits for it)."""
    try:
        running = subprocess.Popen(
            ["fc-match", "-f", "%{family}|%{file}|%{index}", f"{family}:regular"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        raise BuildError(f"cannot look up fonts with fc-match ({error}): install fontconfig")
    return _answer(running) if wait else running


def _answer(running):
    found, errors = running.communicate()
    if running.returncode:
        raise BuildError(f"cannot look up fonts with fc-match ({errors.strip()}): install "
                         "fontconfig")
    return found


def _found(family, answer):
    """The Face fc-match's answer (or the running fc-match) gives for `family`."""
    found = answer if isinstance(answer, str) else _answer(answer)
    families, path, index = found.rsplit("|", 2)
    if family not in families.split(","):
        raise BuildError(f"font `{family}` is not installed (fontconfig offers {families}) — "
                         "install it (make installs fonts-noto-cjk, fonts-noto-core and fonts-arphic-ukai) or "
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
        files.write_cache(cached, points.tobytes())
    return frozenset(map(chr, points))


def roles(block, tag, default):
    """The font roles that set a block's text (a passage in language `tag`: that language's):
    its kind's own, else the body and heading faces of its language (else `default`, the
    book's)."""
    if KINDS[block.kind].fonts and tag is None:
        return KINDS[block.kind].fonts
    language = languages.of(tag or block.lang or default)
    return (language.body, language.heading)


def texts(book):
    """Every text the book prints or writes into its PDFs' metadata, with the font roles that
    set it and where it comes from: the blocks', the chapters' and sections' numbers and
    titles (headings, contents, running heads, outline), book.yaml's title, subtitle, year and
    organisers (cover, title page, colophon) and the labels."""
    heading = languages.of(book.language)
    for block in book.blocks():
        for value in texts_of(block):
            for tag, passage in typography.passages(value):
                yield passage, roles(block, tag, book.language), (block.file, block.line)
    for item in book.items():
        for value in (item.number, item.title):
            yield from _passages(value, (heading.heading,), (item.file, item.line))
    for name in ("title", "subtitle", "year", "organisers"):
        values = getattr(book, name)
        for value in values if isinstance(values, list) else [values]:
            yield from _passages(value, (heading.body, heading.heading), book.sources[name])
    for name, value in book.publication.items():
        yield from _passages(value, (heading.body, heading.heading),
                             book.sources[f"publication.{name}"])
    for name, value in book.labels.items():
        yield from _passages(value, (heading.body, heading.heading),
                             book.sources[f"labels.{name}"])


def _passages(value, roles, where):
    for tag, passage in typography.passages(str(value or "")):
        language = languages.of(tag) if tag else None
        yield passage, (language.body, language.heading) if language else roles, where


def _face(installed, book, role):
    """The installed face of a role, or a ContentError at the role's line in book.yaml."""
    try:
        return installed.find(book.design["fonts"][role])
    except BuildError as error:
        file, line = book.sources.get(f"fonts.{role}", (book.catalogue / "book.yaml", 0))
        raise ContentError(file, line, f"design.fonts.{role}: {error}") from None


def check_coverage(book, cache_dir=None, installed=None):
    """Stage 2: raise ContentError at the first character its fonts do not have, or at the
    first text whose language's faces book.yaml does not name. `cache_dir`: where the fonts'
    character maps are kept between builds; `installed`: the session's font lookups."""
    installed = installed or Installed()
    fonts = book.design["fonts"]
    try:
        installed.find_all(fonts.values())
    except BuildError:
        pass  # raised again, with the role's line in book.yaml, by _face below
    covered = installed.found_whole(cache_dir)
    keys, used = {}, []
    for value, needed, (file, line) in texts(book):
        for role in needed:
            if role not in fonts:
                raise ContentError(file, line, f"this text needs the font role `{role}`, which "
                                   "book.yaml's design.fonts does not name",
                                   f"add `{role}: <an installed family>` to design.fonts")
        home = languages.of(book.language)
        stacks = tuple(tuple(_face(installed, book, role) for role in languages.stack(role, home))
                       for role in needed)
        if stacks not in keys:
            keys[stacks] = repr((stacks, [installed.files_state(face.family)
                                          for stack in stacks for face in stack])).encode()
        digest = hashlib.sha256(keys[stacks] + value.encode()).digest()[:16]
        used.append(digest)
        if digest in covered:
            continue
        for char in dict.fromkeys(value):
            if char in IGNORED:
                continue
            missing = [stack[0].family for stack in stacks
                       if not any(char in installed.characters(face, cache_dir)
                                  for face in stack)]
            if missing:
                raise ContentError(
                    file, line,
                    f"character {char} (U+{ord(char):04X}) is not in {', '.join(missing)}",
                    "replace it (or an image of it), or name a font that has it in "
                    "book.yaml's design.fonts")
        covered.add(digest)
    installed.remember(cache_dir, used)
    return book

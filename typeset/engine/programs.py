"""Font programs for an edition joined from parts (assemble.py).

A part (the front matter, or one chapter) is written without its fonts' programs
(engine.write_part, with the patch `programs`: WeasyPrint neither copies each face's file — a CJK
collection is tens of megabytes — nor subsets it, for every part). The joined edition then
holds one program per face, subset by WeasyPrint's own HarfBuzz routine to the glyphs every
part uses (`programs`): the same bytes as a whole-document write's subset.
"""

import hashlib
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import weasyprint
from weasyprint.pdf import fonts as weasyprint_fonts
from weasyprint.text.ffi import ffi, gobject, harfbuzz, pango
from weasyprint.text.fonts import get_hb_object_data, get_pango_font_hb_face

from .. import files
from ..errors import BuildError

ORIGINAL = {}  # WeasyPrint's own functions while the patch is applied (patches.applied)
_FLATED = OrderedDict()  # program → its compression, for the process (the newest 32)


@dataclass
class PartPDF:
    """A part written in one edition's variant, without font programs."""

    data: bytes
    keep: int     # pages to keep: all but the part-end page
    glyphs: dict  # font name → {glyph id: (width, text)}
    faces: dict = field(default_factory=dict)  # font name → Face


@dataclass(frozen=True)
class Face:
    """A font face as Pango chose it for the layout, so any process can load it again to
    subset it (the part may have been written in another one)."""

    family: str
    weight: int
    style: int
    glyph_count: int


def part_pdf(document, data, keep, state):
    """A part's PDF, written without font programs, with the glyphs and faces it drew (the
    faces kept in `state`, engine.State, for the subsetting)."""
    glyphs, faces = {}, {}
    for font in document.fonts.values():
        name = font.name.decode()
        if "fvar" in font.tables or font.png or font.svg or font.colr:
            raise BuildError(f"font {name}: a variable or colour font cannot be joined from "
                             "parts — name a static font in book.yaml's design.fonts")
        state.faces.setdefault(name, font.hb_face)
        faces[name] = Face(font.family, int(font.weight), int(font.style), font.glyph_count)
        used = glyphs.setdefault(name, {})
        for glyph, width in font.widths.items():
            used.setdefault(glyph, (width, font.to_unicode.get(glyph)))
    return PartPDF(data, keep, glyphs, faces)


def without_face_file(hb_object, ot_color=None, glyph=None):
    """Replaces `weasyprint.pdf.fonts.get_hb_object_data` during a part's write."""
    if ot_color is None and glyph is None:
        return b""  # the whole face's file, which Font keeps for the subsetting it skips
    return get_hb_object_data(hb_object, ot_color, glyph)


def without_program(font, to_unicode, hinting):
    """Replaces `weasyprint.pdf.fonts.Font.clean` during a part's write."""
    # WeasyPrint reads the font's type from the first bytes of the program it embeds.
    font.file_content = b"OTTO" if "CFF " in font.tables or "CFF2" in font.tables \
        else b"\x00\x01\x00\x00"


def programs(parts, state, cache_dir=None, font_files=None):
    """Each face the parts use → (its font program, the glyphs of all of them): the program
    subset to those glyphs as WeasyPrint subsets a whole document's (HarfBuzz, glyph ids
    kept), the glyphs (id → width, text) for the joined edition's widths and text map. With
    `cache_dir`, the programs are kept there for the next build (by face, glyphs and the font
    files' state, `font_files(family)`), those of this build only."""
    made, kept = {}, set()
    faces = {name: face for part in parts for name, face in part.faces.items()}
    for name, glyphs in _union(parts).items():
        key = (name, frozenset(glyphs))
        file = None
        if cache_dir is not None:
            file = Path(cache_dir) / (hashlib.sha256(repr(
                (name, faces[name], sorted(glyphs), font_files(faces[name].family))
            ).encode()).hexdigest()[:40] + ".program")
            kept.add(file.name)
            if key not in state.programs and file.is_file():
                compressed = file.read_bytes()
                try:
                    state.programs[key] = _remember(zlib.decompress(compressed), compressed)
                except zlib.error:  # not compressed (an older build's): made again
                    file.unlink()
        if key not in state.programs:
            state.programs[key] = _subset(name, faces[name], glyphs, state)
        if file is not None and not file.is_file():
            files.write_cache(file, flated(state.programs[key]))
        made[name] = (state.programs[key], glyphs)
    if cache_dir is not None:
        files.forget_others(cache_dir, "*.program", kept)
    return made


def flated(program):
    """A font program compressed (zlib), once per process; a program read from the cache
    comes with its compression, which is what the cache keeps. Compressing the CJK programs
    took 0.12 s an edition in every new process."""
    if program in _FLATED:
        _FLATED.move_to_end(program)
    else:
        _remember(program, zlib.compress(program))
    return _FLATED[program]


def _remember(program, compressed):
    _FLATED[program] = compressed
    while len(_FLATED) > 32:
        _FLATED.popitem(last=False)
    return program


def covering(part, state):
    """The font programs for one part written alone (a proof of a few pages): for each face,
    a program kept in `state` from an earlier build whose glyphs include all the part uses —
    glyph ids are kept in every subset, so any such program draws it — else one subset now."""
    made = {}
    for name, glyphs in part.glyphs.items():
        used = set(glyphs)
        program = next((program for (kept, held), program in state.programs.items()
                        if kept == name and used <= held), None)
        if program is None:
            program = state.programs.setdefault((name, frozenset(used)),
                                                _subset(name, part.faces[name], glyphs, state))
        made[name] = (program, glyphs)
    return made


def _subset(name, face, glyphs, state):
    font = SimpleNamespace(hb_face=_hb_face(name, face, state), missing={},
                           family=face.family, file_content=b"")
    weasyprint_fonts.Font._harfbuzz_subset(
        font, {glyph: text for glyph, (_, text) in glyphs.items()},
        weasyprint.DEFAULT_OPTIONS["hinting"])
    if not font.file_content:
        raise BuildError(f"font {name}: HarfBuzz could not subset it")
    return font.file_content


def _hb_face(name, face, state):
    """The HarfBuzz face of a font the parts use: the one this process drew with, or the
    same face loaded again through Pango from its description."""
    if name not in state.faces:
        font_map = state.font_configuration().font_map
        context = ffi.gc(pango.pango_font_map_create_context(font_map), gobject.g_object_unref)
        description = ffi.gc(pango.pango_font_description_new(),
                             pango.pango_font_description_free)
        pango.pango_font_description_set_family(description, face.family.encode())
        pango.pango_font_description_set_weight(description, face.weight)
        pango.pango_font_description_set_style(description, face.style)
        pango.pango_font_description_set_absolute_size(description, 12 * 1024)
        loaded = pango.pango_font_map_load_font(font_map, context, description)
        if loaded == ffi.NULL:
            raise BuildError(f"font {name}: Pango cannot load {face.family} again")
        hb_face = get_pango_font_hb_face(loaded)
        if harfbuzz.hb_face_get_glyph_count(hb_face) != face.glyph_count:
            raise BuildError(f"font {name}: Pango loads another face of {face.family} than "
                             "the layout used")
        state.faces[name] = hb_face
    return state.faces[name]


def _union(parts):
    union = {}
    for part in parts:
        for name, glyphs in part.glyphs.items():
            into = union.setdefault(name, {})
            for glyph, value in glyphs.items():
                into.setdefault(glyph, value)
    return union

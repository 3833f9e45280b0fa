"""WeasyPrint behind one door: lay out HTML with the book's stylesheets, write a PDF, read
the laid-out pages. The only part of typeset that touches WeasyPrint's and pydyf's
internals; each change to them is a patch in `patches.PATCHES`, version-checked.

    layout(state, source, stylesheets, allowed)  → (document, warnings)
    write(document, variant)                     → PDF bytes (a whole document)
    write_part(document, variant, keep, state)   → programs.PartPDF (a part, no font programs)
    programs(parts, state, cache_dir, font_files) → one subset font program per face
    flated(program)                              → the program compressed, once per process
    covering(part, state)                        → programs for a few pages (the live proof)
    facts.read(pages)                            → what the checks need of each page
"""

import gc
import logging
import os
from dataclasses import dataclass, field

from .libraries import found_quickly

with found_quickly():  # WeasyPrint loads its libraries as it is imported
    from weasyprint import CSS, HTML
    from weasyprint import __version__ as version
    from weasyprint.text.ffi import harfbuzz_subset
    from weasyprint.text.fonts import FontConfiguration

from .. import PROJECT
from ..errors import BuildError
from ..fetch import ContainedFetcher
from . import colours, facts, grid, patches, structure
from .programs import PartPDF, covering, flated, part_pdf, programs

__all__ = ["State", "layout", "write", "write_part", "programs", "covering", "flated", "facts",
           "patches", "PartPDF", "version"]


@dataclass
class State:
    """What WeasyPrint keeps between documents in one process (a build session holds it):
    one FontConfiguration — each new one starts a new Pango font map, which loads the large
    CJK faces and their glyph caches again (the book names only installed fonts, no
    @font-face, so nothing differs between documents); the HarfBuzz faces the parts were
    drawn with and the font programs subset from them (by name and glyph set: a rebuild
    subsets only a face whose glyphs changed); the stylesheets as parsed (their selectors
    compiled), while their files are unchanged."""

    fonts: object = None
    faces: dict = field(default_factory=dict)
    programs: dict = field(default_factory=dict)
    sheets: dict = field(default_factory=dict)  # parsed stylesheets by file, size and time

    def font_configuration(self):
        if self.fonts is None:
            self.fonts = FontConfiguration()
        return self.fonts

    def sheet(self, path, fetcher):
        """A stylesheet file parsed once per process while it is unchanged (WeasyPrint only
        reads a parsed sheet; what it names is fetched when a document uses it)."""
        stat = os.stat(path)
        key = (str(path), stat.st_size, stat.st_mtime_ns, tuple(fetcher.roots))
        if key not in self.sheets:
            self.sheets[key] = CSS(filename=path, font_config=self.font_configuration(),
                                   url_fetcher=fetcher)
        return self.sheets[key]


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def layout(state, source, stylesheets, roots, files=(), fill=None):
    """Lay out an HTML document; return it and WeasyPrint's warnings. `stylesheets`: CSS text
    (the first: the design tokens, with the colour profile) then CSS files; WeasyPrint reads
    only files under `roots` or named in `files` (fetch.ContainedFetcher). `fill`: (grow,
    spread), how pages whose flow goes on overleaf are filled to the foot (grid.fill)."""
    patches.install()
    fetcher = ContainedFetcher(roots, files=files)
    fonts = state.font_configuration()
    collect = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    tokens, *sheets = stylesheets
    try:
        profiles = {}
        css = [CSS(string=tokens, font_config=fonts, url_fetcher=fetcher,
                   color_profiles=profiles)] + [state.sheet(path, fetcher) for path in sheets]
        # Layout makes millions of short-lived objects and no cycles worth collecting
        # meanwhile: without the cyclic collector it runs a fifth faster.
        gc.disable()
        document = HTML(string=source, base_url=str(PROJECT) + "/", url_fetcher=fetcher).render(
            stylesheets=css, font_config=fonts, color_profiles=profiles)
    finally:
        gc.enable()
        logger.removeHandler(collect)
    if fill is not None:
        grid.fill(document.pages, *fill)
    if fetcher.refused:
        raise BuildError("refused to read: " + "; ".join(fetcher.refused))
    return document, collect.messages


def write(document, variant, palette=None):
    """The laid-out document as PDF bytes in one variant, its colours through `palette`
    (colour.palette; None: as laid out). WeasyPrint keeps the fonts a write_pdf used for the
    next one, so the second edition's font subsets would also hold the first's glyphs and its
    bytes would depend on the order: each write starts with none."""
    patches.install()
    document.fonts = {}
    with colours.drawn_with(palette), structure.drawing(document):
        return document.write_pdf(pdf_variant=variant)


def write_part(document, variant, keep, state, palette=None, compress=True):
    """A laid-out part as PDF bytes in `variant` (its colours through `palette`), its fonts'
    programs left out (the patch `programs`): the edition joined from the parts
    (assemble.py) holds one subset per face, made by `programs()` from the glyphs recorded
    here. `compress`: False for pages drawn on screen at once and thrown away (live.py)."""
    patches.install()
    if not harfbuzz_subset:
        raise BuildError("libharfbuzz-subset0 is missing — `make` installs it")
    document.fonts = {}  # WeasyPrint keeps the fonts of a write for the next one
    with patches.applied("programs"), colours.drawn_with(palette), \
            structure.drawing(document):
        data = document.write_pdf(pdf_variant=variant, uncompressed_pdf=not compress)
    return part_pdf(document, data, keep, state)

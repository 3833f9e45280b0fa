"""Every change this project makes to WeasyPrint's and pydyf's internals, in one registry.

Each patch names the upstream functions it replaces, the version it was written for, and a
fingerprint of their source (tests/test_engine.py recomputes them: after a version bump, the
failing fingerprint names the patch to recheck). `install()` applies the process-wide patches
once, after checking the versions with a clear error (not `assert`, which `python -O`
removes); `applied(name)` applies a write-time patch for the length of a `with` block.
"""

import hashlib
import importlib
import inspect
from contextlib import contextmanager
from dataclasses import dataclass

import pydyf
import weasyprint

from ..errors import BuildError
from . import colours, grid, justify, pagerefs, photos, programs, structure

PACKAGES = {"weasyprint": weasyprint, "pydyf": pydyf}


class EngineVersionError(BuildError):
    """WeasyPrint or pydyf is not the version the patches were written for."""


@dataclass(frozen=True)
class Patch:
    name: str
    why: str
    package: str            # whose internals: weasyprint or pydyf
    version: str            # the version the patch was written for
    module: object          # holds the replacements and ORIGINAL, the replaced functions
    targets: tuple          # (owner's dotted path, attribute, replacement's name in module)
    fingerprints: dict      # "owner.attribute" → sha256 of the upstream source, 16 digits
    during_write: bool = False  # applied only while a part is written (applied()), not installed


PATCHES = {
    "justify": Patch(
        "justify", "Chinese lines justified between characters (WeasyPrint stretches spaces only)",
        "weasyprint", "70.0", justify,
        (("weasyprint.layout.inline", "justify_line", "justify_line"),
         ("weasyprint.text.line_break.Layout", "set_text", "set_text")),
        {"weasyprint.layout.inline.justify_line": "f83b21ff8793ba6b",
         "weasyprint.text.line_break.Layout.set_text": "fe23ca9937dbf520"}),
    "grid": Patch(
        "grid", "each block of a chapter or section starts on the baseline grid (the body "
        "leading, counted from the type area's foot)", "weasyprint", "70.0", grid,
        (("weasyprint.layout.block", "_in_flow_layout", "in_flow_layout"),
         ("weasyprint.layout", "layout_backgrounds", "layout_backgrounds")),
        {"weasyprint.layout.block._in_flow_layout": "c2537262836dd981",
         "weasyprint.layout.layout_backgrounds": "5d7d4d589e3d8a33"}),
    "pagerefs": Patch(
        "pagerefs", "tagged PDFs written in linear time (page references built once)",
        "pydyf", "0.13.0", pagerefs,
        (("pydyf.PDF", "page_references", "page_references"),),
        {"pydyf.PDF.page_references": "060bf90aad55931b"}),
    "photos": Patch(
        "photos", "photos kept as delivered (never transposed or re-encoded), turned by their "
        "EXIF orientation when drawn, 16-bit PNGs reduced to 8 bits, pass-through JPEGs written "
        "as stand-ins until published", "weasyprint", "70.0", photos,
        (("weasyprint.images.RasterImage", "__init__", "__init__"),
         ("weasyprint.images.RasterImage", "get_intrinsic_size", "get_intrinsic_size"),
         ("weasyprint.images.RasterImage", "draw", "draw"),
         ("weasyprint.images.RasterImage", "get_x_object", "get_x_object")),
        {"weasyprint.images.RasterImage.__init__": "f2f27bf6bb9cf72b",
         "weasyprint.images.RasterImage.get_intrinsic_size": "1e001569849d6076",
         "weasyprint.images.RasterImage.draw": "e6074f717d13a3e8",
         "weasyprint.images.RasterImage.get_x_object": "1f590111444639aa"}),
    "colours": Patch(
        "colours", "each edition drawn in its own colours: the press's inks, the screen's RGB",
        "weasyprint", "70.0", colours,
        (("weasyprint.pdf.stream.Stream", "set_color", "set_color"),),
        {"weasyprint.pdf.stream.Stream.set_color": "d289ec41ef8285c2"}),
    "structure": Patch(
        "structure", "the screen edition's structure tree as the content model knows it: "
        "running heads and folios as artifacts, figures with captions, links, languages, "
        "table headers, text as written", "weasyprint", "70.0", structure,
        (("weasyprint.pdf.stream.Stream", "marked", "marked"),
         ("weasyprint.pdf", "add_tags", "add_tags")),
        {"weasyprint.pdf.stream.Stream.marked": "3fa3acacbbf66422",
         "weasyprint.pdf.add_tags": "f0e74575b0bafaf3"}),
    "programs": Patch(
        "programs", "a part is written without its font programs (the edition's join adds one "
        "subset per face)", "weasyprint", "70.0", programs,
        (("weasyprint.pdf.fonts.Font", "clean", "without_program"),
         ("weasyprint.pdf.fonts", "get_hb_object_data", "without_face_file")),
        {"weasyprint.pdf.fonts.Font.clean": "794f0211f18453f1",
         "weasyprint.pdf.fonts.get_hb_object_data": "03040a623df04c2b"},
        during_write=True),
}


def check_versions():
    """Raise EngineVersionError unless every patched package is at its patch's version."""
    for patch in PATCHES.values():
        found = PACKAGES[patch.package].__version__
        if found != patch.version:
            functions = ", ".join(f"{owner}.{attribute}" for owner, attribute, _ in patch.targets)
            raise EngineVersionError(
                f"{patch.package} {found} is installed, but the patch `{patch.name}` "
                f"(typeset/engine/{patch.module.__name__.rsplit('.', 1)[-1]}.py) replaces "
                f"{functions} of {patch.package} {patch.version} — install the pinned version "
                "(make setup), or recheck the patch against the new version and update it")


def install():
    """Apply the process-wide patches (idempotent), after checking the versions."""
    check_versions()
    for patch in PATCHES.values():
        if not patch.during_write and not patch.module.ORIGINAL:
            _swap(patch)


@contextmanager
def applied(name):
    """A write-time patch (`during_write`) for the `with` body."""
    patch = PATCHES[name]
    check_versions()
    _swap(patch)
    try:
        yield
    finally:
        _restore(patch)


@contextmanager
def uninstalled(name):
    """WeasyPrint's own functions for the `with` body (before/after comparisons in tests);
    not between a layout and its write: the drawing uses what the layout used."""
    patch = PATCHES[name]
    installed = bool(patch.module.ORIGINAL)
    if installed:
        _restore(patch)
    try:
        yield
    finally:
        if installed:
            _swap(patch)


def _swap(patch):
    for owner, attribute, replacement in patch.targets:
        holder = resolve(owner)
        patch.module.ORIGINAL[attribute] = holder.__dict__[attribute] \
            if isinstance(holder, type) else getattr(holder, attribute)
        setattr(holder, attribute, getattr(patch.module, replacement))


def _restore(patch):
    for owner, attribute, _ in patch.targets:
        setattr(resolve(owner), attribute, patch.module.ORIGINAL.pop(attribute))


def resolve(dotted):
    """A module, or a class inside one, from its dotted path."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


def fingerprint(patch, target):
    """The 16-digit sha256 of an upstream function's source as the package has it now (the
    original, even while the patch is installed)."""
    owner, attribute = target.rsplit(".", 1)
    function = patch.module.ORIGINAL.get(attribute) or (
        resolve(owner).__dict__[attribute] if isinstance(resolve(owner), type)
        else getattr(resolve(owner), attribute))
    if isinstance(function, property):
        function = function.fget
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]

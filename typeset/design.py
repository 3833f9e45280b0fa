"""The book's tokens in book.yaml: `design` (trim, margins, type, colours, fonts — they become
CSS custom properties, html.py) and `production` (binding, paper, marks, profile,
resolutions). Checked here with file:line like the content."""

import functools
import re
from pathlib import Path

from .errors import ContentError
from .fields import (SETTING, Where, between, check_fields, choice, closest, describe, integer,
                     number, optional, positive, required, role, text)
from .colour import parse as parse_colour
from .units import to_mm
from .yamlsource import Mapping


@role(SETTING)
def length(value, where):
    value = text(value, where)
    if not re.fullmatch(r"[0-9]*\.?[0-9]+(mm|cm|in|pt|px)", value):
        where.fail(f"`{value}` is not a length", "write it with its unit, such as 3mm or 0.1mm")
    return value


@role(SETTING)
def language_tag(value, where):
    value = text(value, where)
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        where.fail(f"`{value}` is not a language tag", "write one such as zh-Hant or zh-Hant-MO")
    return value


@role(SETTING)
def icc_profile(value, where):
    """The press's CMYK profile: its path may be anywhere (the system's colour folder), so it
    must be an ICC profile: nothing else is embedded in the PDF as the output intent."""
    value = text(value, where)
    path = Path(value)
    if path.suffix.lower() not in (".icc", ".icm"):
        where.fail(f"`{value}` is not an ICC profile (.icc or .icm)",
                   "name the press's CMYK profile, such as /usr/share/color/icc/…/FOGRA39.icc")
    try:
        with path.open("rb") as file:
            header = file.read(40) if path.is_file() else None
    except OSError:
        header = None
    if header is None:
        where.fail(f"`{value}` does not exist",
                   "make installs Ghostscript's stand-in (Debian libgs-common); or give the "
                   "path of the printer's CMYK profile")
    if header[36:40] != b"acsp":
        where.fail(f"`{value}` is not an ICC profile (no ICC signature)",
                   "name the press's CMYK profile file")
    if header[16:20] != b"CMYK":
        where.fail(f"`{value}` is a profile for {header[16:20].decode('latin-1').strip()}, "
                   "not CMYK", "the output intent is the press's: name its CMYK profile")
    return value


@role(SETTING)
def colour(value, where):
    """A colour for both editions: `{print: cmyk(0 95 80 30), screen: "#9e1b22"}`, or one of
    them (the other is derived through the output profile, colour.py). A print colour is
    cmyk(c m y k) in percent or device-cmyk(); a screen colour #rrggbb, rgb() or a colour word."""
    example = 'write it as "#9e1b22", cmyk(0 95 80 30) or {print: cmyk(0 95 80 30), screen: "#9e1b22"}'
    if isinstance(value, dict):
        for side in value:
            if side not in ("print", "screen"):
                where.at(str(side)).fail("is not an edition", "write print: and screen:")
        parsed = {side: parse_colour(text(part, where.at(side))) for side, part in value.items()}
        for side, found in parsed.items():
            wanted = "press" if side == "print" else "screen"
            if found is None or found[0] != wanted:
                where.at(side).fail(f"`{value[side]}` is not a {side} colour", example)
        return dict(value)
    value = text(value, where)
    if parse_colour(value) is None:
        where.fail(f"`{value}` is not a colour", example)
    return value


@role(SETTING)
def font_family(value, where):
    value = text(value, where)
    if re.search(r"[\"'\\;{}<>\n]", value):
        where.fail(f"`{value}` is not a font family name", "write the name alone, such as "
                   "Noto Serif CJK TC (fc-list shows the installed ones)")
    return value


def token_names(check):
    """A mapping of plain names (colour names, font roles) to checked values."""
    @role(SETTING)
    def checked(value, where):
        if not isinstance(value, dict) or not value:
            where.fail(f"expected name: value pairs, got {describe(value)}",
                       "write one `name: value` per line, indented under it")
        result = {}
        for name, item in value.items():
            line = value.line_of(name) if isinstance(value, Mapping) else where.line
            if not re.fullmatch(r"[a-z][a-z0-9_-]*", str(name)):
                where.at(str(name), line).fail("is not a plain name",
                                               "use lower-case ascii letters, digits, _ and -")
            result[name] = check(item, where.at(name, line))
        return result
    return checked


DESIGN = {
    "trim_width": required(length), "trim_height": required(length), "bleed": required(length),
    "margin_top": required(length), "margin_bottom": required(length),
    "margin_inner": required(length), "body_size": required(length),
    "body_leading": required(positive(number)), "measure": required(positive(integer)),
    "colours": required(token_names(colour)), "fonts": required(token_names(font_family)),
    "section_side": optional(choice("any", "left", "right"), "left"),  # where a section opens
    "gutter": optional(length, "6mm"),  # between the columns of the photo module
    # The editor's typographic choices for Chinese text, applied as it is set (the source is
    # left as written): the quotation marks, and ASCII marks typed in Chinese.
    "quotes": optional(choice("keep", "corner", "curly"), "keep"),
    "punctuation": optional(choice("keep", "normalise"), "keep"),
}
# The font roles a book may name (languages.py: which role sets which language; the kind
# `inscription` its own); body and heading always, the others when its text needs them (the
# fonts stage says which text).
FONT_ROLES = ("body", "heading", "body_simplified", "heading_simplified", "latin",
              "latin_heading", "inscription")
REQUIRED_FONT_ROLES = ("body", "heading")

# Production tokens: how the book is printed, bound and published.
PRODUCTION = {
    "binding": optional(choice("saddle-stitch", "perfect"), "saddle-stitch"),
    # self: the cover is the text block's first and last leaf (saddle stitch only); separate:
    # a sheet of its own (build/<slug>-cover.pdf), the text block opening on the title page.
    "cover": optional(choice("self", "separate")),  # default: separate for perfect binding
    "signature": optional(positive(integer), 16),  # pages per folded sheet (perfect binding)
    "caliper": optional(length, "0.1mm"),         # paper thickness per leaf: the spine width
    "marks_offset": optional(length, "3mm"),      # crop marks start this far from the trim
    "marks_length": optional(length, "5mm"),
    "output_profile": optional(icc_profile,
                               "/usr/share/color/icc/ghostscript/default_cmyk.icc"),
    "output_condition": optional(text),           # its registered name: FOGRA39, JC200103 …
    "max_ink": optional(between(100, 400), 300),  # total area coverage, %: preflight's limit
    "photo_colour": optional(choice("keep", "convert"), "keep"),  # RGB photos to the press
    "spine_text_min": optional(length, "5mm"),    # the spine carries the title from this width
    "print_dpi": optional(positive(integer), 300),  # photos below this warn in preflight
    "fill_min": optional(between(0, 100), 75),    # %: a page whose content ends higher is named
    "fill_grow": optional(between(0, 100), 25),   # %: a photo grows by at most this to fill
    "fill_spread": optional(between(0, 10), 1),   # lines: a gap between blocks opens this much
    "screen_dpi": optional(positive(integer), 150),  # photos are downsampled to this on screen
    "screen_quality": optional(between(1, 95), 78),  # … and recompressed at this quality
    "screen_budget_mb": optional(positive(number), 10),  # the web file's size budget
}


def design(value, path, line):
    """Design tokens as given, checked for completeness; they become CSS custom properties."""
    if not isinstance(value, Mapping):
        raise ContentError(path, line, "design: expected token: value pairs",
                           "see docs/design.md for the tokens")
    for key in value:
        if key not in DESIGN:
            guess = closest(key, DESIGN)
            raise ContentError(path, value.line_of(key), f"design: unknown token `{key}`",
                               f"did you mean `{guess}`?" if guess else
                               f"known tokens: {', '.join(sorted(DESIGN))}")
    for key in sorted(key for key in set(DESIGN) - set(value) if DESIGN[key].required):
        raise ContentError(path, value.line, f"design: missing token `{key}`", f"add `{key}: …`")
    checked = check_fields(value, DESIGN, Where(path, value.line, "design"))
    fonts = value["fonts"]
    for font_role in checked["fonts"]:
        if font_role not in FONT_ROLES:
            guess = closest(font_role, FONT_ROLES)
            raise ContentError(path, fonts.line_of(font_role) if isinstance(fonts, Mapping)
                               else value.line_of("fonts"),
                               f"design.fonts: unknown font role `{font_role}`",
                               f"did you mean `{guess}`?" if guess else
                               f"the roles are {', '.join(FONT_ROLES)}")
    for font_role in REQUIRED_FONT_ROLES:
        if font_role not in checked["fonts"]:
            raise ContentError(path, value.line_of("fonts"),
                               f"design.fonts: missing `{font_role}`",
                               f"name the font family for {font_role}")
    _check_measure(checked, path, value.line_of("measure"))
    for name, (sheet, line) in used_colours(path.parent.parent / "styles").items():
        if name not in checked["colours"]:
            raise ContentError(path, value.line_of("colours"),
                               f"design.colours has no `{name}`, which {sheet}:{line} uses",
                               f"add `{name}: …` to the colours (or use a name the "
                               f"stylesheets know: {', '.join(sorted(checked['colours']))})")
    return checked


MIN_OUTER_MARGIN_MM = 5


def _check_measure(checked, path, line):
    """The type area (`measure` characters of `body_size`) leaves an outer margin."""
    body = to_mm(checked["body_size"])
    width = body * checked["measure"]
    outer = to_mm(checked["trim_width"]) - to_mm(checked["margin_inner"]) - width
    if outer < MIN_OUTER_MARGIN_MM:
        most = int((to_mm(checked["trim_width"]) - to_mm(checked["margin_inner"])
                    - MIN_OUTER_MARGIN_MM) // body)
        raise ContentError(path, line, f"design.measure: {checked['measure']} characters of "
                           f"{checked['body_size']} make the type area {width:.1f} mm wide and "
                           f"leave an outer margin of {outer:.1f} mm",
                           f"lower the measure to {most} or less (or the body size)")


def used_colours(own_styles=None):
    """Each colour token the stylesheets use (`var(--colour-<name>)`), with its first use."""
    from . import STYLES
    found = {}
    for folder in (STYLES, own_styles):
        if folder is None or not Path(folder).is_dir():
            continue
        for sheet in sorted(Path(folder).rglob("*.css")):
            stat = sheet.stat()
            for name, at in _colours_in(sheet, stat.st_size, stat.st_mtime_ns):
                found.setdefault(name, (sheet.relative_to(Path(folder).parent), at))
    return found


@functools.lru_cache(maxsize=256)
def _colours_in(sheet, size, mtime):
    """(colour token, line) of each use in one stylesheet, read once per version of it."""
    return [(name, at)
            for at, line in enumerate(sheet.read_text(encoding="utf-8").splitlines(), 1)
            for name in re.findall(r"var\(--colour-([a-z0-9-]+)", line)]


def production(data, path, design_tokens):
    """Production tokens, with their defaults; the crop marks start outside the bleed
    (press.add_marks)."""
    given = data.get("production") or Mapping()
    checked = check_fields(given, PRODUCTION, Where(path, data.line_of("production"),
                                                    "production"))
    binding = checked["binding"]
    if checked["cover"] is None:
        checked["cover"] = "separate" if binding == "perfect" else "self"
    elif checked["cover"] == "self" and binding == "perfect":
        raise ContentError(path, given.line_of("cover"), "production.cover: a perfect-bound "
                           "book cannot be self-covered (its cover wraps the spine)",
                           "write cover: separate, or binding: saddle-stitch")
    if to_mm(checked["marks_offset"]) < to_mm(design_tokens["bleed"]) - 0.001:
        line = given.line_of("marks_offset") if isinstance(given, Mapping) and given else \
            data.line_of("production")
        raise ContentError(path, line, f"production.marks_offset: {checked['marks_offset']} "
                           f"is inside the bleed ({design_tokens['bleed']})",
                           f"make it at least the bleed: marks_offset: {design_tokens['bleed']}")
    return checked

"""Stage 1 — content: load `book.yaml` and its chapter files into a validated model.

Nothing is rendered from content that does not validate: every problem is a ContentError
naming the file, the line and the fix. That includes the photos that have arrived: a file the
content names that is damaged, truncated, not the type its name says, a decompression bomb,
an SVG that refers outside itself, or a link to a file outside the images folder is an error
at the line that names it (see `images.check`); one that has not arrived is a placeholder.
"""

import calendar
import contextvars
import dataclasses
import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import images as images_module
from . import isbn, yamlsource
from .errors import ContentError
from .units import to_mm
from .yamlsource import Mapping, Sequence

RESERVED_FILES = {"book.yaml", "labels.yaml", "queries.yaml"}
ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
LANGUAGES = {"zh-Hans"}


@dataclass(frozen=True)
class Block:
    """One piece of content: its kind selects `templates/blocks/<kind>.html.j2`."""

    kind: str
    fields: dict
    lang: str | None
    file: Path
    line: int


@dataclass
class Section:
    id: str
    number: str
    title: str
    blocks: list
    planned_folio: int | None
    file: Path
    line: int


@dataclass
class Chapter:
    id: str
    number: str
    title: str
    blocks: list
    sections: list
    planned_folio: int | None
    file: Path
    line: int


@dataclass
class Book:
    """The whole book: metadata, design tokens, fixed phrases and chapters in reading order."""

    catalogue: Path
    images: Path
    slug: str
    title: str
    subtitle: str
    year: str
    language: str
    locale: str
    organisers: list
    isbn: object              # isbn.Isbn, or None until the publisher assigns one
    design: dict
    production: dict
    labels: dict
    chapters: list = field(default_factory=list)
    queries: list = field(default_factory=list)  # the editor's, from queries.yaml

    def blocks(self):
        """Every block of the book in reading order."""
        for chapter in self.chapters:
            yield from chapter.blocks
            for section in chapter.sections:
                yield from section.blocks

    def image_paths(self):
        """Every image path the content asks for, in reading order."""
        for block in self.blocks():
            yield from _images_of(block.fields)


def replace_isbn(book, number):
    """The same book with another ISBN."""
    return dataclasses.replace(book, isbn=number)


def _images_of(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("image", "portrait") and isinstance(item, str):
                yield item
            else:
                yield from _images_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from _images_of(item)


# ---------------------------------------------------------------- field checkers
# A checker takes (value, where) and returns the normalised value or raises ContentError.
# `where` knows the file, the line and the field's dotted name.

@dataclass(frozen=True)
class Where:
    file: Path
    line: int
    name: str

    def fail(self, message, hint):
        raise ContentError(self.file, self.line, f"{self.name}: {message}", hint)

    def at(self, name, line=None):
        return Where(self.file, line or self.line, f"{self.name}.{name}")


def text(value, where):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        where.fail(f"expected text, got {_describe(value)}", "write the text after the colon")
    value = value.strip()
    if not value:
        where.fail("is empty", "write the text, or remove the field")
    control = next((c for c in value if unicodedata.category(c) == "Cc" and c not in "\n\t"),
                   None)
    if control is not None:
        where.fail(f"contains the control character U+{ord(control):04X}",
                   "remove it (it is invisible: retype the text around it)")
    return value


def paragraphs(value, where):
    """One text or a list of texts: always returned as a list."""
    if isinstance(value, list):
        if not value:
            where.fail("is an empty list", "give at least one paragraph")
        return [text(item, where.at(str(i), _line_of(value, i))) for i, item in enumerate(value)]
    return [text(value, where)]


# The images folder of the book being loaded, so that the `image` checker can check the
# files that have arrived.
_IMAGES = contextvars.ContextVar("images", default=None)


def image(value, where):
    value = text(value, where)
    path = Path(value)
    if path.is_absolute() or ".." in path.parts or value.startswith("~"):
        where.fail(f"`{value}` is outside the book's images folder",
                   "give a path under images/, such as images/preface/opening.jpg")
    if len(path.parts) < 2 or path.parts[0] != "images":
        where.fail(f"`{value}` is not under images/",
                   "give a path under images/, such as images/preface/opening.jpg")
    if path.suffix.lower() not in {".jpg", ".jpeg", ".png", ".svg"}:
        where.fail(f"`{value}` is not a JPEG, PNG or SVG file name", "use .jpg, .png or .svg")
    folder = _IMAGES.get()
    if folder is not None:
        _check_arrived(value, folder, where)
    return value


def _check_arrived(value, folder, where):
    """A photo that has arrived must be usable: a regular file inside the images folder that
    images.check accepts. One that has not arrived is left to the placeholder."""
    file = folder.joinpath(*Path(value).parts[1:])
    if not (file.exists() or file.is_symlink()):
        return
    if not file.resolve().is_relative_to(folder):
        where.fail(f"{value} is a link to a file outside the images folder",
                   "copy the file into images/ instead of linking to it")
    if not file.is_file():
        where.fail(f"{value} is not a regular file", "put the photo itself at this path")
    problem = _usable(file)
    if problem is not None:
        where.fail(f"{value} {problem.message}", problem.hint)


_USABLE = {}


def _usable(file):
    """None if the photo can be used, else why not. Remembered by the file's size and time
    for the life of the process: `watch` does not decode every photo again after each edit."""
    stat = file.stat()
    key = (file, stat.st_size, stat.st_mtime_ns)
    if key not in _USABLE:
        try:
            images_module.check(file)
            _USABLE[key] = None
        except images_module.Unusable as problem:
            _USABLE[key] = problem
    return _USABLE[key]


_DATE = re.compile(r"(?:(?P<year>\d{4})\s*年\s*)?(?:(?P<month>\d{1,2})\s*月\s*)?"
                   r"(?:(?P<day>\d{1,2})\s*日)?")
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?")
_RANGE = re.compile(r"\s*(?:至|到|-|–|—|～|~)\s*")


def date(value, where):
    """A date as printed: 2018年5月24日, 2019 年 4 月, 2021年, 2018年9月18日至22日 (a range
    whose end leaves out what it shares with its start), or 2018-05-24. The month and the day
    must exist."""
    value = text(value, where)
    example = "write it as printed, such as 2018年5月24日 (or 2018年9月18日至22日)"
    iso = _ISO_DATE.fullmatch(value)
    parts = [iso] if iso else [_DATE.fullmatch(part) for part in _RANGE.split(value)]
    if len(parts) > 2 or not all(match and match[0] for match in parts):
        where.fail(f"`{value}` is not a date", example)
    start = None
    for match in parts:
        fields = {name: int(number) for name, number in match.groupdict().items() if number}
        if start is None and "year" not in fields:
            where.fail(f"`{value}` has no year", example)
        for name in ("year", "month"):
            if start and name in start and name not in fields and (
                    name == "year" or "day" in fields):
                fields[name] = start[name]
        if "day" in fields and "month" not in fields:
            where.fail(f"`{value}` has a day but no month", example)
        if "year" not in fields:
            where.fail(f"`{value}`: the end of the range has a month but no year", example)
        year, month, day = fields.get("year"), fields.get("month"), fields.get("day")
        if month is not None and not 1 <= month <= 12:
            where.fail(f"`{value}`: there is no month {month}", example)
        if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
            where.fail(f"`{value}`: {year}年{month}月 has no day {day}", example)
        key = (year, month or 0, day or 0)
        if start and key <= start["key"]:
            where.fail(f"`{value}`: the range ends before it starts", example)
        start = {**fields, "key": key}
    return value


def isbn_number(value, where):
    try:
        return isbn.parse(text(value, where))
    except isbn.IsbnError as error:
        where.fail(str(error), "copy the ISBN from the publisher's assignment; "
                   "`python -m typeset isbn --set …` replaces it")


def integer(value, where):
    if isinstance(value, bool) or not isinstance(value, int):
        where.fail(f"expected a whole number, got {_describe(value)}", "write a number such as 2")
    return value


def choice(*options):
    def check(value, where):
        if value not in options:
            guess = _closest(value, options)
            where.fail(f"`{value}` is not one of {', '.join(map(str, options))}",
                       f"use {guess}" if guess else "use one of them")
        return value
    return check


def records(spec):
    """A list of small mappings, each checked against `spec` (e.g. a gallery's photos)."""
    def check(value, where):
        if not isinstance(value, list) or not value:
            where.fail(f"expected a list, got {_describe(value)}", "give one `- ` item per entry")
        return [_check_fields(item, spec, where.at(str(i), _line_of(value, i)))
                for i, item in enumerate(value)]
    return check


def lines(value, where):
    """A list of short lines (or one line)."""
    return paragraphs(value, where)


def cell(value, where):
    """A table cell: text, a list of lines, or {text|lines, rowspan, colspan}."""
    if isinstance(value, dict):
        spec = {"text": Field(text), "lines": Field(lines), "rowspan": Field(integer, default=1),
                "colspan": Field(integer, default=1)}
        fields = _check_fields(value, spec, where)
        if (fields["text"] is None) == (fields["lines"] is None):
            where.fail("a cell needs either `text` or `lines`", "write {text: …, rowspan: 2}")
        for span in ("rowspan", "colspan"):
            if fields[span] < 1:
                where.fail(f"{span} must be at least 1", f"write {span}: 2")
        return {"lines": fields.get("lines") or [fields["text"]],
                "rowspan": fields["rowspan"], "colspan": fields["colspan"]}
    if isinstance(value, list):
        return {"lines": lines(value, where), "rowspan": 1, "colspan": 1}
    return {"lines": [text(value, where)], "rowspan": 1, "colspan": 1}


def rows(value, where):
    if not isinstance(value, list) or not value:
        where.fail(f"expected a list of rows, got {_describe(value)}", "give one `- [ … ]` per row")
    result = []
    for i, row in enumerate(value):
        row_where = where.at(str(i + 1), _line_of(value, i))
        if not isinstance(row, list) or not row:
            row_where.fail(f"a row must be a list of cells, got {_describe(row)}",
                           "write the row as [cell, cell, …]")
        result.append([cell(item, row_where) for item in row])
    return result


def widths(value, where):
    if not isinstance(value, list) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in value):
        where.fail("expected a list of positive numbers", "write relative widths such as [1, 4, 8]")
    return list(value)


@dataclass(frozen=True)
class Field:
    check: object
    required: bool = False
    default: object = None


def required(check):
    return Field(check, required=True)


def optional(check, default=None):
    return Field(check, default=default)


PHOTO = {"image": required(image), "caption": optional(text)}
SIZES = ("full", "half", "third", "two-thirds")
SHAPES = ("landscape", "wide", "panorama", "square", "tall", "portrait", "page", "bleed")

# The block kinds. Adding a kind: a line here, `templates/blocks/<kind>.html.j2` and
# `styles/components/<kind>.css` (tests/test_kinds.py checks all three exist).
KINDS = {
    "heading": {"text": required(text)},
    "lead": {"text": required(text)},
    "paragraph": {"text": required(text)},
    "figure": {"image": required(image), "caption": required(text),
               "size": optional(choice(*SIZES), "full"),
               "shape": optional(choice(*SHAPES), "landscape"), "credit": optional(text)},
    "gallery": {"photos": required(records(PHOTO)), "columns": optional(choice(1, 2, 3, 4), 2),
                "shape": optional(choice(*SHAPES), "landscape"), "caption": optional(text)},
    "table": {"columns": required(lines), "rows": required(rows), "title": optional(text),
              "widths": optional(widths), "note": optional(text)},
    "testimonial": {"text": required(paragraphs), "name": optional(text), "role": optional(text),
                    "context": optional(text), "portrait": optional(image)},
    "letter": {"body": required(paragraphs), "letterhead": optional(text),
               "title": optional(text), "salutation": optional(text),
               "page_mark": optional(text), "caption": optional(text), "image": optional(image)},
    "inscription": {"lines": required(lines), "author": required(text), "role": optional(text)},
    "clipping": {"date": required(date), "source": required(text), "headline": optional(text),
                 "deck": optional(text), "body": optional(paragraphs), "image": optional(image),
                 "caption": optional(text), "size": optional(choice(*SIZES), "full")},
    "video": {"title": required(text), "date": required(date), "source": required(text),
              "image": optional(image), "size": optional(choice(*SIZES), "full")},
    "ordersheet": {"title": required(text),
                   "products": required(records({"name": required(text),
                                                 "text": required(text)})),
                   "price": optional(text), "body": optional(paragraphs), "order": optional(text),
                   "contacts": optional(lines), "caption": optional(text),
                   "image": optional(image)},
    "colophon": {"title": required(text), "subtitle": optional(text), "year": optional(text),
                 "credits": optional(records({"role": required(text), "text": required(text)}))},
    "pagebreak": {"side": optional(choice("page", "left", "right"), "page")},
}
SHORTHAND = {kind for kind, spec in KINDS.items()
             if [name for name, f in spec.items() if f.required] == ["text"]}


def _check_fields(value, spec, where):
    if not isinstance(value, dict):
        where.fail(f"expected fields (name: value), got {_describe(value)}",
                   f"write the fields on indented lines: {', '.join(spec)}")
    result = {}
    for name, item in value.items():
        line = value.line_of(name) if isinstance(value, Mapping) else where.line
        if name not in spec:
            guess = _closest(name, spec)
            where.at(str(name), line).fail(
                "unknown field",
                f"did you mean `{guess}`?" if guess else f"known fields: {', '.join(spec)}")
        result[name] = spec[name].check(item, where.at(name, line))
    for name, f in spec.items():
        if name not in result:
            if f.required:
                where.fail(f"missing required field `{name}`", f"add `{name}: …`")
            result[name] = f.default
    return result


def block(value, file, line, where_name):
    """Validate one `- kind: fields` item into a Block."""
    where = Where(file, line, where_name)
    if not isinstance(value, dict) or not value:
        where.fail(f"expected a block such as `- paragraph: …`, got {_describe(value)}",
                   f"start the item with a kind: {', '.join(KINDS)}")
    lang = value.get("lang")
    kinds = [key for key in value if key != "lang"]
    if len(kinds) != 1:
        where.fail(f"a block has exactly one kind, found {', '.join(map(str, kinds)) or 'none'}",
                   "start a new `- ` item for each block")
    kind = kinds[0]
    line = value.line_of(kind) if isinstance(value, Mapping) else line
    where = Where(file, line, f"{where_name} ({kind})")
    if kind not in KINDS:
        guess = _closest(kind, KINDS)
        where.fail(f"unknown block kind `{kind}`",
                   f"did you mean `{guess}`?" if guess else f"use one of {', '.join(KINDS)}")
    fields = value[kind]
    if kind in SHORTHAND and not isinstance(fields, dict):
        fields = {"text": fields}
    if fields is None:
        fields = Mapping()
    if isinstance(fields, dict) and "lang" in fields:
        lang = fields.pop("lang")
    if lang is not None and lang not in LANGUAGES:
        where.fail(f"lang `{lang}` is not supported", "use lang: zh-Hans for Simplified Chinese")
    return Block(kind, _check_fields(fields, KINDS[kind], where), lang, file, line)


def _blocks(value, file, line, owner):
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContentError(file, line, f"{owner}.blocks: expected a list of blocks",
                           "write one `- kind: …` item per block")
    return [block(item, file, _line_of(value, i), f"{owner} block {i + 1}")
            for i, item in enumerate(value)]


def _identity(data, file, what, ids):
    """The id, number and title every chapter and section has."""
    where = Where(file, data.line, what)
    for name in ("id", "title"):
        if name not in data:
            where.fail(f"missing required field `{name}`", f"add `{name}: …`")
    ident = text(data["id"], where.at("id", data.line_of("id")))
    if not ID_PATTERN.match(ident):
        where.at("id", data.line_of("id")).fail(
            f"`{ident}` is not a plain id", "use lower-case ascii letters, digits and -")
    if ident in ids:
        where.at("id", data.line_of("id")).fail(
            f"id `{ident}` is used twice ({ids[ident]})", "give each chapter and section its own id")
    ids[ident] = f"{file.name}:{data.line_of('id')}"
    number = text(data["number"], where.at("number", data.line_of("number"))) \
        if "number" in data else ""
    title = text(data["title"], where.at("title", data.line_of("title")))
    return ident, number, title


CHAPTER_KEYS = ("id", "number", "title", "blocks", "sections")
SECTION_KEYS = ("id", "number", "title", "blocks")


def _unknown_keys(data, allowed, file, what):
    for key in data:
        if key not in allowed:
            guess = _closest(key, allowed)
            raise ContentError(file, data.line_of(key), f"{what}: unknown field `{key}`",
                               f"did you mean `{guess}`?" if guess else
                               f"known fields: {', '.join(allowed)}")


def chapter(path, plan, ids):
    """Load and validate one chapter file against its entry in book.yaml."""
    data = yamlsource.load(path)
    if not isinstance(data, Mapping):
        raise ContentError(path, 1, "a chapter file is a mapping with id, title and blocks",
                           "start the file with `id: …` and `title: …`")
    _unknown_keys(data, CHAPTER_KEYS, path, "chapter")
    ident, number, title = _identity(data, path, "chapter", ids)
    sections = []
    raw_sections = data.get("sections") or []
    if not isinstance(raw_sections, list):
        raise ContentError(path, data.line_of("sections"), "sections: expected a list",
                           "write one `- id: …` item per section")
    planned_sections = dict(plan["sections"])
    for i, raw in enumerate(raw_sections):
        line = _line_of(raw_sections, i)
        if not isinstance(raw, Mapping):
            raise ContentError(path, line, "a section is a mapping with id, title and blocks",
                               "write `- id: …` then `title: …` and `blocks:`")
        _unknown_keys(raw, SECTION_KEYS, path, "section")
        sid, snumber, stitle = _identity(raw, path, "section", ids)
        sections.append(Section(sid, snumber, stitle,
                                _blocks(raw.get("blocks"), path, raw.line_of("blocks"), sid),
                                planned_sections.pop(sid, None), path, raw.line))
    if planned_sections:
        name = next(iter(planned_sections))
        raise ContentError(plan["file"], plan["line"],
                           f"book.yaml plans a folio for section `{name}`, "
                           f"which {path.name} does not have",
                           f"add the section to {path.name} or remove it from book.yaml")
    return Chapter(ident, number, title, _blocks(data.get("blocks"), path,
                                                 data.line_of("blocks"), ident),
                   sections, plan["folio"], path, data.line)


def length(value, where):
    value = text(value, where)
    if not re.fullmatch(r"[0-9]*\.?[0-9]+(mm|cm|in|pt|px)", value):
        where.fail(f"`{value}` is not a length", "write it with its unit, such as 3mm or 0.1mm")
    return value


def positive(check):
    def checked(value, where):
        value = check(value, where)
        if value <= 0:
            where.fail(f"must be more than 0, got {value}", "write a positive number")
        return value
    return checked


def between(low, high):
    def check(value, where):
        value = integer(value, where)
        if not low <= value <= high:
            where.fail(f"must be from {low} to {high}, got {value}",
                       f"write a number such as {high * 4 // 5}")
        return value
    return check


def number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        where.fail(f"expected a number, got {_describe(value)}", "write a number such as 1.8")
    return value


def language_tag(value, where):
    value = text(value, where)
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        where.fail(f"`{value}` is not a language tag", "write one such as zh-Hant or zh-Hant-MO")
    return value


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
    if header is not None and header[36:40] != b"acsp":
        where.fail(f"`{value}` is not an ICC profile (no ICC signature)",
                   "name the press's CMYK profile file")
    return value  # a missing profile is reported by the render stage, with how to install it


BOOK_FIELDS = {"slug": required(text), "title": required(text), "subtitle": optional(text, ""),
               "year": optional(text, ""), "language": optional(language_tag, "zh-Hant"),
               "locale": optional(language_tag, "zh-Hant"), "organisers": optional(lines, []),
               "images": optional(text, "../images"), "isbn": optional(isbn_number),
               "design": required(lambda v, w: v), "production": optional(lambda v, w: v),
               "chapters": required(lambda v, w: v)}


# Production tokens: how the book is printed, bound and published.
PRODUCTION = {
    "binding": optional(choice("saddle-stitch", "perfect"), "saddle-stitch"),
    "signature": optional(positive(integer), 16),  # pages per folded sheet (perfect binding)
    "caliper": optional(length, "0.1mm"),         # paper thickness per leaf: the spine width
    "marks_offset": optional(length, "3mm"),      # crop marks start this far from the trim
    "marks_length": optional(length, "5mm"),
    "output_profile": optional(icc_profile,
                               "/usr/share/color/icc/ghostscript/default_cmyk.icc"),
    "print_dpi": optional(positive(integer), 300),  # photos below this warn in preflight
    "screen_dpi": optional(positive(integer), 150),  # photos are downsampled to this on screen
    "screen_quality": optional(between(1, 95), 78),  # … and recompressed at this quality
    "screen_budget_mb": optional(positive(number), 10),  # the web file's size budget
}


def _chapter_plan(chapters, path):
    """book.yaml's chapter list: file names with their planned folios."""
    if not isinstance(chapters, list) or not chapters:
        raise ContentError(path, getattr(chapters, "line", 0),
                           "chapters: expected a list of chapter files",
                           "write `- {file: preface.yaml, folio: 1}` per chapter")
    plans = []
    for i, entry in enumerate(chapters):
        line = _line_of(chapters, i)
        if isinstance(entry, str):
            entry = Mapping(file=entry)
            entry.line, entry.key_lines = line, {}
        where = Where(path, line, f"chapters[{i + 1}]")
        if not isinstance(entry, dict):
            where.fail(f"expected a chapter entry, got {_describe(entry)}",
                       "write `- {file: preface.yaml, folio: 1}`")
        fields = _check_fields(entry, {"file": required(text), "folio": optional(integer),
                                       "sections": optional(lambda v, w: v, {})}, where)
        sections = fields["sections"]
        if not isinstance(sections, dict):
            where.fail("sections: expected `id: folio` pairs", "write sections: {education: 20}")
        for sid, folio in sections.items():
            integer(folio, where.at(f"sections.{sid}"))
        plans.append({"file": path, "line": line, "name": fields["file"],
                      "folio": fields.get("folio"), "sections": sections})
    return plans


def load(catalogue):
    """Stage 1: read `catalogue/book.yaml` and the chapters it lists, in its order."""
    catalogue = Path(catalogue).resolve()
    book_path = catalogue / "book.yaml"
    if not book_path.is_file():
        raise ContentError(book_path, 0, "book.yaml not found",
                           "pass --catalogue with the folder that holds book.yaml")
    data = yamlsource.load(book_path)
    if not isinstance(data, Mapping):
        raise ContentError(book_path, 1, "book.yaml must be a mapping",
                           "start with `slug: …` and `title: …`")
    meta = _check_fields(data, BOOK_FIELDS, Where(book_path, data.line, "book"))
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", meta["slug"]):
        raise ContentError(book_path, data.line_of("slug"), f"slug `{meta['slug']}` is not plain",
                           "use lower-case ascii letters, digits and - (it names the PDFs)")
    images = (catalogue / meta["images"]).resolve()
    if not images.is_relative_to(catalogue.parent):
        raise ContentError(book_path, data.line_of("images"), "images: points outside the project",
                           "use a folder beside the catalogue, such as ../images")
    design = _design(data["design"], book_path, data.line_of("design"))
    production = _check_fields(data.get("production") or Mapping(), PRODUCTION,
                               Where(book_path, data.line_of("production"), "production"))
    _marks_outside_bleed(design, production, data, book_path)
    book = Book(catalogue=catalogue, images=images, slug=meta["slug"], title=meta["title"],
                subtitle=meta["subtitle"], year=meta["year"], language=meta["language"],
                locale=meta["locale"], organisers=meta["organisers"], isbn=meta["isbn"],
                design=design, production=production, labels=_labels(catalogue),
                queries=_queries(catalogue))
    plans = _chapter_plan(data["chapters"], book_path)
    loading = _IMAGES.set(images)
    try:
        _chapters(book, plans, catalogue, book_path)
    finally:
        _IMAGES.reset(loading)
    return book


def _chapters(book, plans, catalogue, book_path):
    listed = set()
    ids = {}
    for plan in plans:
        path = (catalogue / plan["name"])
        if path.parent.resolve() != catalogue or path.suffix != ".yaml":
            raise ContentError(book_path, plan["line"], f"`{plan['name']}` is not a chapter file "
                               "in this folder", "list a .yaml file beside book.yaml")
        if path.name in listed:
            raise ContentError(book_path, plan["line"], f"`{path.name}` is listed twice",
                               "list each chapter file once")
        listed.add(path.name)
        if not path.is_file():
            raise ContentError(book_path, plan["line"], f"chapter file `{path.name}` does not exist",
                               f"create {path.name} or remove it from the chapter list")
        book.chapters.append(chapter(path, plan, ids))
    for path in sorted(catalogue.glob("*.yaml")):
        if path.name not in listed and path.name not in RESERVED_FILES:
            raise ContentError(path, 1, "this chapter file is not listed in book.yaml",
                               f"add `- file: {path.name}` to the chapters of book.yaml, "
                               "or move the file out of the catalogue")


def _marks_outside_bleed(design, production, data, path):
    """The crop marks start outside the bleed (press.add_marks)."""
    if to_mm(production["marks_offset"]) < to_mm(design["bleed"]) - 0.001:
        given = data.get("production")
        line = given.line_of("marks_offset") if isinstance(given, Mapping) else \
            data.line_of("production")
        raise ContentError(path, line, f"production.marks_offset: {production['marks_offset']} "
                           f"is inside the bleed ({design['bleed']})",
                           f"make it at least the bleed: marks_offset: {design['bleed']}")


def colour(value, where):
    """A CSS colour: #rgb/#rrggbb(aa), a colour word, or rgb()/hsl()/device-cmyk()."""
    value = text(value, where)
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-zA-Z]+|"
                        r"(?:rgba?|hsla?|device-cmyk)\([0-9.,%\s/+-]+\)", value):
        where.fail(f"`{value}` is not a colour", "write it as #9e1b22 or device-cmyk(0 1 1 0.3)")
    return value


def font_family(value, where):
    value = text(value, where)
    if re.search(r"[\"'\\;{}<>\n]", value):
        where.fail(f"`{value}` is not a font family name", "write the name alone, such as "
                   "Noto Serif CJK TC (fc-list shows the installed ones)")
    return value


def token_names(check):
    """A mapping of plain names (colour names, font roles) to checked values."""
    def checked(value, where):
        if not isinstance(value, dict) or not value:
            where.fail(f"expected name: value pairs, got {_describe(value)}",
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
}
DESIGN_TOKENS = set(DESIGN)
FONT_ROLES = {"body", "heading", "body_simplified", "heading_simplified", "inscription"}


def _design(design, path, line):
    """Design tokens as given, checked for completeness; they become CSS custom properties."""
    if not isinstance(design, Mapping):
        raise ContentError(path, line, "design: expected token: value pairs",
                           "see docs/content-model.md for the tokens")
    for key in design:
        if key not in DESIGN_TOKENS:
            guess = _closest(key, DESIGN_TOKENS)
            raise ContentError(path, design.line_of(key), f"design: unknown token `{key}`",
                               f"did you mean `{guess}`?" if guess else
                               f"known tokens: {', '.join(sorted(DESIGN_TOKENS))}")
    for key in sorted(DESIGN_TOKENS - set(design)):
        raise ContentError(path, design.line, f"design: missing token `{key}`", f"add `{key}: …`")
    checked = _check_fields(design, DESIGN, Where(path, design.line, "design"))
    for role in sorted(FONT_ROLES - set(checked["fonts"])):
        raise ContentError(path, design.line_of("fonts"), f"design.fonts: missing `{role}`",
                           f"name the font family for {role}")
    return checked


# The project's templates (render lays them out; here their labels are checked).
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@functools.lru_cache(maxsize=1)
def used_labels():
    """The labels the templates print (`labels.name`): each must be in labels.yaml."""
    return sorted({name for template in TEMPLATES.rglob("*.j2")
                   for name in re.findall(r"\blabels\.([a-z_][a-z0-9_]*)",
                                          template.read_text(encoding="utf-8"))})


def _labels(catalogue):
    """The book's fixed phrases (目錄, 圖片待補 …), one file for all templates."""
    path = catalogue / "labels.yaml"
    if not path.is_file():
        raise ContentError(path, 0, "labels.yaml not found",
                           "copy labels.yaml from another book and translate its phrases")
    data = yamlsource.load(path)
    if not isinstance(data, Mapping):
        raise ContentError(path, 1, "labels.yaml must be a mapping of name: phrase",
                           "write `contents: 目錄` …")
    labels = {key: text(value, Where(path, data.line_of(key), key))
              for key, value in data.items()}
    for name in used_labels():
        if name not in labels:
            raise ContentError(path, data.line or 1, f"the label `{name}` is missing",
                               f"add `{name}: …` (the templates print it)")
    return labels


QUERY = {"file": optional(text), "where": optional(text), "what": required(text),
         "suggestion": optional(text)}


def _queries(catalogue):
    """The editor's queries (queries.yaml, optional): a list of {file, where, what,
    suggestion}; the preflight lists them."""
    path = catalogue / "queries.yaml"
    if not path.is_file():
        return []
    data = yamlsource.load(path)
    if data is None:
        return []
    if not isinstance(data, Sequence):
        raise ContentError(path, getattr(data, "line", 1) or 1,
                           "queries.yaml must be a list of queries",
                           "write one `- file: …` item (with where, what, suggestion) per query")
    return [_check_fields(entry, QUERY, Where(path, _line_of(data, i), f"query {i + 1}"))
            for i, entry in enumerate(data)]


def _line_of(container, index):
    return container.line_of(index) if isinstance(container, Sequence) else 0


def _closest(word, options):
    matches = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.5)
    return matches[0] if matches else None


def _describe(value):
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} `{value}`"

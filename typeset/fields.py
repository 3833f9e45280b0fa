"""Field checkers: each takes (value, where) and returns the normalised value or raises a
ContentError naming the file, the line and the fix. `where` knows the file, the line and the
field's dotted name.

Each checker has a role (`text`, `image`, `choice`, `number`, `records`, `table`, `setting`):
what the value is to the rest of the pipeline. The font check reads the `text` fields, the
image check and the templates' photo sources the `image` fields, and the docs test the
declaration of every kind (kinds.py), so one declaration serves all of them.
"""

import calendar
import contextvars
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from . import images as images_module
from . import isbn
from .errors import ContentError
from .yamlsource import Mapping, Sequence

TEXT, IMAGE, CHOICE, NUMBER, RECORDS, TABLE, SETTING = (
    "text", "image", "choice", "number", "records", "table", "setting")


def role(name):
    """Mark a checker with its role."""
    def mark(check):
        check.role = name
        return check
    return mark


@dataclass(frozen=True)
class Where:
    file: Path
    line: int
    name: str

    def fail(self, message, hint):
        raise ContentError(self.file, self.line, f"{self.name}: {message}", hint)

    def at(self, name, line=None):
        return Where(self.file, line or self.line, f"{self.name}.{name}")


@dataclass(frozen=True)
class Field:
    check: object
    required: bool = False
    default: object = None

    @property
    def role(self):
        return self.check.role


def required(check):
    return Field(check, required=True)


def optional(check, default=None):
    return Field(check, default=default)


def check_fields(value, spec, where):
    """A mapping checked against `spec` (name → Field): unknown names refused with the closest
    known one, required ones demanded, defaults filled in. Returns a new dict."""
    if not isinstance(value, dict):
        where.fail(f"expected fields (name: value), got {describe(value)}",
                   f"write the fields on indented lines: {', '.join(spec)}")
    result = {}
    for name, item in value.items():
        line = value.line_of(name) if isinstance(value, Mapping) else where.line
        if name not in spec:
            guess = closest(name, spec)
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


# ---------------------------------------------------------------- text

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode's Cc but line feed, tab


@role(TEXT)
def text(value, where):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        where.fail(f"expected text, got {describe(value)}", "write the text after the colon")
    value = value.strip()
    if not value:
        where.fail("is empty", "write the text, or remove the field")
    if (control := CONTROL.search(value)) is not None:
        where.fail(f"contains the control character U+{ord(control[0]):04X}",
                   "remove it (it is invisible: retype the text around it)")
    return value


@role(TEXT)
def paragraphs(value, where):
    """One text or a list of texts: always returned as a list."""
    if isinstance(value, list):
        if not value:
            where.fail("is an empty list", "give at least one paragraph")
        return [text(item, where.at(str(i), line_of(value, i))) for i, item in enumerate(value)]
    return [text(value, where)]


@role(TEXT)
def lines(value, where):
    """A list of short lines (or one line)."""
    return paragraphs(value, where)


_DATE = re.compile(r"(?:(?P<year>\d{4})\s*年\s*)?(?:(?P<month>\d{1,2})\s*月\s*)?"
                   r"(?:(?P<day>\d{1,2})\s*日)?")
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?")
_RANGE = re.compile(r"\s*(?:至|到|-|–|—|～|~)\s*")


@role(TEXT)
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


# ---------------------------------------------------------------- images

@dataclass
class Loading:
    """What the image checker needs while a book loads: its images folder and the photo checks
    the build session remembers (by file, size and time → the SHA-256 of its bytes, or why it
    cannot be used): a photo is not read again after an edit, nor by the next build."""

    images: Path
    photos: dict


LOADING = contextvars.ContextVar("loading", default=None)


@role(IMAGE)
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
        where.fail(f"`{value}` is not a JPEG, PNG or SVG file name",
                   "use .jpg, .png or .svg (a TIFF scan: save it as PNG, which keeps every "
                   "pixel, or as JPEG at quality 90 or more)")
    loading = LOADING.get()
    if loading is not None:
        _check_arrived(value, loading, where)
    return value


def _check_arrived(value, loading, where):
    """A photo that has arrived must be usable: a regular file inside the images folder that
    images.check accepts. One that has not arrived is left to the placeholder."""
    folder = loading.images
    file = folder.joinpath(*Path(value).parts[1:])
    if not (file.exists() or file.is_symlink()):
        return
    if not file.resolve().is_relative_to(folder):
        where.fail(f"{value} is a link to a file outside the images folder",
                   "copy the file into images/ instead of linking to it")
    if not file.is_file():
        where.fail(f"{value} is not a regular file", "put the photo itself at this path")
    stat = file.stat()
    key = (file.resolve(), stat.st_size, stat.st_mtime_ns)
    if key not in loading.photos:
        try:
            loading.photos[key] = images_module.check(file)  # the SHA-256 of its bytes
        except images_module.Unusable as problem:
            loading.photos[key] = problem
    problem = loading.photos[key]
    if isinstance(problem, images_module.Unusable):
        where.fail(f"{value} {problem.message}", problem.hint)


# ---------------------------------------------------------------- choices and numbers

def choice(*options):
    @role(CHOICE)
    def check(value, where):
        if value not in options:
            guess = closest(value, options)
            where.fail(f"`{value}` is not one of {', '.join(map(str, options))}",
                       f"use {guess}" if guess else "use one of them")
        return value
    check.options = options
    return check


FOCUS = {"top": "50% 0%", "bottom": "50% 100%", "left": "0% 50%", "right": "100% 50%",
         "centre": "50% 50%", "center": "50% 50%", "top-left": "0% 0%", "top-right": "100% 0%",
         "bottom-left": "0% 100%", "bottom-right": "100% 100%"}


@role(SETTING)
def focus(value, where):
    """Which part of a cropped photo the slot keeps: a side (top, bottom, left, right,
    top-left …, centre) or `x% y%` (0% 0% the top left) — CSS object-position."""
    if isinstance(value, str) and value.strip().lower() in FOCUS:
        return FOCUS[value.strip().lower()]
    found = re.fullmatch(r"\s*(\d{1,3}(?:\.\d+)?)%\s+(\d{1,3}(?:\.\d+)?)%\s*", str(value))
    if not found or float(found[1]) > 100 or float(found[2]) > 100:
        where.fail(f"`{value}` is not a focus",
                   "write top, bottom, left, right, centre, or a point such as 40% 20%")
    return f"{float(found[1]):g}% {float(found[2]):g}%"


@role(NUMBER)
def integer(value, where):
    if isinstance(value, bool) or not isinstance(value, int):
        where.fail(f"expected a whole number, got {describe(value)}", "write a number such as 2")
    return value


@role(NUMBER)
def number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        where.fail(f"expected a number, got {describe(value)}", "write a number such as 1.8")
    return value


def positive(check):
    @role(check.role)
    def checked(value, where):
        value = check(value, where)
        if value <= 0:
            where.fail(f"must be more than 0, got {value}", "write a positive number")
        return value
    return checked


def between(low, high):
    @role(NUMBER)
    def check(value, where):
        value = integer(value, where)
        if not low <= value <= high:
            where.fail(f"must be from {low} to {high}, got {value}",
                       f"write a number such as {high * 4 // 5}")
        return value
    return check


@role(NUMBER)
def widths(value, where):
    if not isinstance(value, list) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in value):
        where.fail("expected a list of positive numbers", "write relative widths such as [1, 4, 8]")
    return list(value)


# ---------------------------------------------------------------- structured fields

def records(spec):
    """A list of small mappings, each checked against `spec` (e.g. a gallery's photos)."""
    @role(RECORDS)
    def check(value, where):
        if not isinstance(value, list) or not value:
            where.fail(f"expected a list, got {describe(value)}", "give one `- ` item per entry")
        return [check_fields(item, spec, where.at(str(i), line_of(value, i)))
                for i, item in enumerate(value)]
    check.spec = spec
    return check


CELL = {"text": Field(text), "lines": Field(lines), "rowspan": Field(integer, default=1),
        "colspan": Field(integer, default=1)}


def cell(value, where):
    """A table cell: text, a list of lines, or {text|lines, rowspan, colspan}."""
    if isinstance(value, dict):
        fields = check_fields(value, CELL, where)
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


@role(TABLE)
def rows(value, where):
    """A table's rows, each a list of cells; every cell's lines are text."""
    if not isinstance(value, list) or not value:
        where.fail(f"expected a list of rows, got {describe(value)}", "give one `- [ … ]` per row")
    result = []
    for i, row in enumerate(value):
        row_where = where.at(str(i + 1), line_of(value, i))
        if not isinstance(row, list) or not row:
            row_where.fail(f"a row must be a list of cells, got {describe(row)}",
                           "write the row as [cell, cell, …]")
        result.append([cell(item, row_where) for item in row])
    return result


RUN = 8  # the most rows one cell spans as set: a run of them fits on a page


def table(fields, value, where):
    """A table checked across its fields: one width per column, each row filling the columns
    exactly, no rowspan past the end. Its rows come back as set: a cell spanning over RUN rows
    cut into runs, each with its text, as a long group breaks pages only between runs."""
    columns, given = len(fields["columns"]), fields["widths"]
    if given is not None and len(given) != columns:
        where.at("widths", value.line_of("widths") if isinstance(value, Mapping) else 0).fail(
            f"has {_count(len(given), 'number')} but the table has {_count(columns, 'column')}",
            f"give {columns} widths, one per column, or leave widths out")
    rows = list(_placed(fields["rows"], columns, value.get("rows"), where))
    return {**fields, "rows": _runs(rows)}


def _placed(rows, columns, raw, where):
    """Each row as {column: cell}, its cells placed past the columns a rowspan from above
    holds, as HTML places them; a row that would push a cell out of the table refused."""
    held = {}  # column → (the row its rowspan ends before, the cell)
    for i, row in enumerate(rows):
        at = where.at(f"rows.{i + 1}", line_of(raw, i))
        taken = {column: item for column, (end, item) in held.items() if end > i}
        wide = sum(item["colspan"] for item in row)
        if len(taken) + wide != columns:
            has = _count(len(row), "cell") + (f" spanning {wide} columns" if wide > len(row) else "")
            if taken:
                has += f" and {_count(len(taken), 'column')} held by a rowspan from above"
            at.fail(f"has {has} but the table has {_count(columns, 'column')}",
                    "add the missing cells, or widen one with colspan"
                    if len(taken) + wide < columns else
                    f"leave out the cell under `{next(iter(taken.values()))['lines'][0]}`, "
                    "which spans this row" if taken else
                    "remove a cell, or add its column to `columns`")
        spots, column = {}, 0
        for item in row:
            while column in taken:
                column += 1
            covers, name = range(column, column + item["colspan"]), f"`{item['lines'][0]}`"
            if taken.keys() & set(covers):
                at.fail(f"{name} spans {item['colspan']} columns across one that a rowspan "
                        "from above holds", "narrow its colspan, or end the rowspan above sooner")
            if i + item["rowspan"] > len(rows):
                at.fail(f"{name} spans {item['rowspan']} rows but the table ends after "
                        f"{_count(len(rows) - i, 'row')}",
                        f"write rowspan: {len(rows) - i}, or add the rows")
            spots[column] = item
            held.update((c, (i + item["rowspan"], item)) for c in covers)
            column += item["colspan"]
        yield spots


def _runs(placed):
    """The rows with each rowspan cut at every RUN-th row of its group (the rows rowspans
    join), the later pieces repeating its text."""
    rows, start, reach = [{} for _ in placed], 0, 0
    for i, spots in enumerate(placed):
        start = i if i >= reach else start
        reach = max([reach, *(i + item["rowspan"] for item in spots.values())])
        for column, item in spots.items():
            end = i + item["rowspan"]
            cuts = [j for j in range(i + 1, end) if (j - start) % RUN == 0]
            for top, bottom in zip([i, *cuts], [*cuts, end]):
                rows[top][column] = {**item, "rowspan": bottom - top}
    return [[spots[column] for column in sorted(spots)] for spots in rows]


def _count(number, word):
    return f"{number} {word}{'' if number == 1 else 's'}"


@role(TEXT)
def isbn_number(value, where):
    try:
        return isbn.parse(text(value, where))
    except isbn.IsbnError as error:
        where.fail(str(error), "copy the ISBN from the publisher's assignment; "
                   "`python -m typeset isbn --set …` replaces it")


# ---------------------------------------------------------------- helpers

def line_of(container, index):
    return container.line_of(index) if isinstance(container, Sequence) else 0


def closest(word, options):
    matches = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.5)
    return matches[0] if matches else None


def describe(value):
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} `{value}`"

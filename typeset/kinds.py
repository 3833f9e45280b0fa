"""The block kinds: each declares its fields once, with their roles, and every stage reads
that declaration — content checks the fields, the font check reads the `text` fields, the
image check and the templates' photo sources read the `image` fields, and
docs/content-model.md is tested against it (tests/test_docs.py).

Adding a kind `map`: an entry here, `templates/blocks/map.html.j2` (its root element with
class `map`), `styles/components/map.css`, and a row in docs/content-model.md. A book may
bring its own templates and styles beside its catalogue (html.py).
"""

from dataclasses import dataclass

from .fields import (IMAGE, RECORDS, TABLE, TEXT, check_fields, choice, date, focus, image, lines,
                     optional, paragraphs, records, required, rows, table, text, widths)


@dataclass(frozen=True)
class Kind:
    fields: dict               # name → fields.Field (its checker carries the role)
    about: str                 # what it is, for the docs
    fonts: tuple | None = None  # the font roles of its text; None: the block language's faces
    shorthand: str | None = None  # the field a plain value fills: `- paragraph: 文字`
    across: object = None      # a check across its fields: (fields, value, where) → fields

    def check(self, value, where):
        """A block's fields (`value`, as written) checked one by one, then across them."""
        fields = check_fields(value, self.fields, where)
        return self.across(fields, value, where) if self.across else fields


PHOTO = {"image": required(image), "caption": optional(text), "alt": optional(text),
         "focus": optional(focus)}
FIT = ("cover", "contain")
SIZES = ("full", "half", "third", "two-thirds")
SHAPES = ("landscape", "wide", "panorama", "square", "tall", "portrait", "page", "bleed")

KINDS = {
    "heading": Kind({"text": required(text)},
                    "a sub-heading inside a chapter or section", shorthand="text"),
    "lead": Kind({"text": required(text)},
                 "a short opening statement set larger", shorthand="text"),
    "paragraph": Kind({"text": required(text)}, "body text", shorthand="text"),
    "figure": Kind({"image": required(image), "caption": required(text),
                    "size": optional(choice(*SIZES), "full"),
                    "shape": optional(choice(*SHAPES), "landscape"), "credit": optional(text),
                    "fit": optional(choice(*FIT), "cover"), "focus": optional(focus)},
                   "one photo slot"),
    "gallery": Kind({"photos": required(records(PHOTO)),
                     "columns": optional(choice(1, 2, 3, 4), 2),
                     "shape": optional(choice(*SHAPES), "landscape"),
                     "caption": optional(text), "fit": optional(choice(*FIT), "cover")},
                    "a grid of photo slots; `caption` is one caption for the whole grid"),
    "table": Kind({"columns": required(lines), "rows": required(rows), "title": optional(text),
                   "widths": optional(widths), "note": optional(text)},
                  "a table; see Tables below", across=table),
    "testimonial": Kind({"text": required(paragraphs), "name": optional(text),
                         "role": optional(text), "context": optional(text),
                         "portrait": optional(image)},
                        "a quotation with its speaker"),
    "letter": Kind({"body": required(paragraphs), "letterhead": optional(text),
                    "title": optional(text), "salutation": optional(text),
                    "page_mark": optional(text), "caption": optional(text),
                    "image": optional(image),
                    "extent": optional(choice("whole", "excerpt"), "whole")},
                   "a letter's text as a facsimile, with its scan"),
    "inscription": Kind({"lines": required(lines), "author": required(text),
                         "role": optional(text)},
                        "an inscription: short lines written by a dignitary, set vertically",
                        fonts=("inscription", "heading")),
    "clipping": Kind({"date": required(date), "source": required(text),
                      "headline": optional(text), "deck": optional(text),
                      "body": optional(paragraphs), "image": optional(image),
                      "caption": optional(text), "size": optional(choice(*SIZES), "full")},
                     "a newspaper or web clipping"),
    "video": Kind({"title": required(text), "date": required(date), "source": required(text),
                   "image": optional(image), "size": optional(choice(*SIZES), "full")},
                  "a news-video still with its programme"),
    "ordersheet": Kind({"title": required(text),
                        "products": required(records({"name": required(text),
                                                      "text": required(text)})),
                        "price": optional(text), "body": optional(paragraphs),
                        "order": optional(text), "contacts": optional(lines),
                        "caption": optional(text), "image": optional(image)},
                       "a product order sheet"),
    "colophon": Kind({"title": required(text), "subtitle": optional(text),
                      "year": optional(text),
                      "credits": optional(records({"role": required(text),
                                                   "text": required(text)}))},
                     "the colophon page; the ISBN comes from book.yaml"),
    "closing": Kind({"text": required(text)},
                    "a closing line (thanks) alone on a page of its own, at its optical centre",
                    shorthand="text"),
    "divider": Kind({"image": required(image), "alt": optional(text),
                     "focus": optional(focus)},
                    "a full-bleed photo on a page of its own, without caption: the page before "
                    "a chapter that would be blank", shorthand="image"),
    "pagebreak": Kind({"side": optional(choice("page", "left", "right"), "page")},
                      "start the next block on a new (left / right) page", shorthand="side"),
}


def images_of(block):
    """The image paths a block shows, in the order its fields give them."""
    yield from _values(block.fields, KINDS[block.kind].fields, IMAGE)


def texts_of(block):
    """Every text a block prints (its `text` fields, table cells, records' texts)."""
    yield from _values(block.fields, KINDS[block.kind].fields, TEXT)


def _values(fields, spec, wanted):
    for name, value in fields.items():
        if value is None or name not in spec:
            continue
        kind = spec[name].role
        if kind == wanted:
            yield from (value if isinstance(value, list) else [value])
        elif kind == RECORDS:
            for record in value:
                yield from _values(record, spec[name].check.spec, wanted)
        elif kind == TABLE and wanted == TEXT:
            for row in value:
                for cell in row:
                    yield from cell["lines"]


def image_paths(book):
    """Every image path the content asks for, in reading order."""
    for block in book.blocks():
        yield from images_of(block)


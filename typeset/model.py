"""The data the stages pass along: the book as loaded, the layout's manifest, laid-out parts
and findings. Plain dataclasses: nothing here imports the pipeline.

    content → Book (Chapter, Section, Block)
    render  → Rendered (Manifest of Entry; parts: Part), page facts
    preflight → [Finding]
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Block:
    """One piece of content: its kind selects `templates/blocks/<kind>.html.j2` and the
    fields `kinds.KINDS[kind]` declares."""

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
    plan: tuple = None        # (book.yaml, line) of its planned folio


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
    plan: tuple = None        # (book.yaml, line) of its planned folio


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
    publication: dict = field(default_factory=dict)  # the colophon's entries (book.yaml)
    sources: dict = field(default_factory=dict)  # title, labels.contents … → (file, line)

    def blocks(self):
        """Every block of the book in reading order."""
        for chapter in self.chapters:
            yield from chapter.blocks
            for section in chapter.sections:
                yield from section.blocks

    def items(self):
        """Every chapter and section, in reading order."""
        for chapter in self.chapters:
            yield chapter
            yield from chapter.sections


@dataclass(frozen=True)
class Entry:
    """A contents entry as laid out: a chapter (level 1) or a section (level 2)."""

    id: str
    title: str
    level: int
    page: int                 # physical page index, 0-based
    folio: int                # printed folio
    planned_folio: int | None


@dataclass
class Manifest:
    """Where the content landed: front-matter length, page count and each entry's page."""

    front_pages: int
    page_count: int
    entries: list
    missing_images: list = field(default_factory=list)
    colophon: int | None = None   # the page the ISBN is stamped on
    padding: int = 0              # blank pages added for the binding (--pad)
    placed: dict = field(default_factory=dict)  # photo hash → widest placed width (inches)

    @property
    def padding_at(self):
        """Where the blank pages go: before the colophon when it closes the book, else at
        the end."""
        if self.colophon == self.page_count - 1:
            return self.colophon
        return self.page_count

    @property
    def stamp_page(self):
        """The colophon's page once the padding is in."""
        return None if self.colophon is None else self.padded(self.colophon)

    def padded(self, page):
        """Where a laid-out page (0-based) is once the blank pages for the binding are in."""
        return page + self.padding if page >= self.padding_at else page

    def folio(self, page):
        """The printed folio of a physical page (0-based); front matter has none."""
        number = page + 1 - self.front_pages
        return number if number >= 1 else None

    def to_json(self):
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        data["entries"] = [Entry(**entry) for entry in data["entries"]]
        return cls(**data)


@dataclass
class Part:
    """A part of the book laid out alone (render by parts), and the PDFs written from it,
    by edition (postprocess): kept together, so an unchanged part is neither laid out nor
    written again."""

    document: object
    warnings: list
    pdfs: dict = field(default_factory=dict)
    facts: list | None = None  # its pages' facts (engine.facts), read once
    # Kept without its document (build/.cache/parts): how many pages it has, whether the
    # first is full by design, and which are blank — what render asks of a stretch.
    shape: tuple | None = None


@dataclass
class Rendered:
    """What the render stage hands on: the layout (WeasyPrint's document, or the parts it was
    laid out in), the facts of each page (engine.facts: what the checks read) and the
    manifest."""

    document: object           # WeasyPrint's laid-out document (None: laid out in parts)
    manifest: Manifest
    warnings: list
    parts: list | None = None  # laid out by parts: (Part, pages kept) in reading order
    pages: list | None = None  # engine.facts.Page of each page


@dataclass(frozen=True)
class Finding:
    """One line of the preflight report."""

    level: str      # error, warning or info
    kind: str       # folio-plan, binding, missing-image, overflow … (docs/editing.md)
    where: str      # folio and/or content file:line
    message: str    # what is wrong — what to do

    def __str__(self):
        return f"{self.level}: {self.where}: {self.message}"


LEVELS = ("error", "warning", "info")

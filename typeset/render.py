"""Stage 3 — render: content → HTML (Jinja2 templates) → laid-out pages (WeasyPrint).

Returns the layout, the facts of its pages (facts.py) that the checks read, and a layout
manifest: where each chapter and section landed (physical page and printed folio). Three ways
to the same pages: the whole book at once; part by part, keeping the parts between builds
(watch); or, for a book with a complete folio plan on more than one core, every part at the
same time in its own process, each drawn there in both editions' variants and kept in the
build's cache (a cold `make`, and a new process after an edit).
"""

import base64
import functools
import gc
import hashlib
import json
import logging
import os
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
from weasyprint import CSS, HTML
from weasyprint import __version__ as weasyprint_version
from weasyprint.text.fonts import FontConfiguration

from . import images as images_module
from . import cache, facts, forks, isbn, justify, pagerefs, press, typography
from .units import to_mm
from .content import KINDS, TEMPLATES
from .errors import BuildError
from .fetch import ContainedFetcher

PROJECT = TEMPLATES.parent
STYLES = PROJECT / "styles"
# Each edition is drawn from the same layout in its own PDF variant: PDF/X-4 for the press
# (output intent, TrimBox and BleedBox), PDF/UA-1 for the screen (tagged: WeasyPrint 70 writes
# the structure tree for it; its PDF/A-3u writes none).
EDITIONS = {"print": "pdf/x-4", "screen": "pdf/ua-1"}


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


@dataclass
class Rendered:
    document: object           # WeasyPrint's laid-out document (None: laid out elsewhere)
    manifest: Manifest
    warnings: list
    parts: list | None = None  # laid out by parts: (Part, pages kept) in reading order
    pages: list | None = None  # facts.Page of each page: what the checks read

    def __post_init__(self):
        if self.pages is None and self.document is not None:
            self.pages = facts.read(self.document.pages)


def design_tokens(book):
    """CSS custom properties from book.yaml's design tokens, plus the derived geometry."""
    design = book.design
    body_mm = to_mm(design["body_size"])
    type_width = body_mm * int(design["measure"])
    trim_width, trim_height = to_mm(design["trim_width"]), to_mm(design["trim_height"])
    margin_outer = trim_width - to_mm(design["margin_inner"]) - type_width
    if margin_outer < 5:
        raise BuildError(f"design: measure {design['measure']} × body_size {design['body_size']} "
                         f"leaves an outer margin of {margin_outer:.1f} mm — lower the measure")
    tokens = {
        "trim-width": design["trim_width"], "trim-height": design["trim_height"],
        "bleed": design["bleed"], "margin-top": design["margin_top"],
        "margin-bottom": design["margin_bottom"], "margin-inner": design["margin_inner"],
        "margin-outer": f"{margin_outer:.3f}mm", "type-width": f"{type_width:.3f}mm",
        "type-height": f"{trim_height - to_mm(design['margin_top']) - to_mm(design['margin_bottom']):.3f}mm",
        "body-size": design["body_size"], "body-leading": str(design["body_leading"]),
    }
    tokens["book-title"] = css_string(book.title)  # the verso running head
    tokens.update({f"colour-{name}": value for name, value in design["colours"].items()})
    tokens.update({f"font-{name.replace('_', '-')}": f'"{family}"'
                   for name, family in design["fonts"].items()})
    return tokens


def css_string(text):
    """`text` as a quoted CSS string (backslash, quotes and line ends escaped)."""
    escaped = "".join(f"\\{ord(c):x} " if c in '\\"\n\r\f' or ord(c) < 0x20 else c
                      for c in text)
    return f'"{escaped}"'


def image_sources(book):
    """Each image path in the content → its file URL, or None while the photo has not arrived."""
    sources = {}
    for path in book.image_paths():
        file = book.images.joinpath(*Path(path).parts[1:])
        sources[path] = file.resolve().as_uri() if file.is_file() else None
    return sources


@dataclass
class Run:
    """Blocks set together: one block, or a row of narrow blocks side by side."""

    row: bool
    blocks: list
    width: float = 0.0


ROW_WIDTHS = {"half": 1 / 2, "third": 1 / 3, "two-thirds": 2 / 3}


def rows(blocks):
    """Group consecutive narrow blocks (size half, third, two-thirds) into rows that fit the
    measure."""
    result = []
    for block in blocks:
        width = ROW_WIDTHS.get(block.fields.get("size"))
        last = result[-1] if result else None
        if width is None:
            result.append(Run(False, [block]))
        elif last and last.row and last.width + width <= 1.001:
            last.blocks.append(block)
            last.width += width
        else:
            result.append(Run(True, [block], width))
    return result


def environment():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(disabled_extensions=("css.j2",),
                                                                 default=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["rows"] = rows
    env.filters["typeset"] = typography.runs
    return env


def html(book, images, front_pages):
    """The whole book as one HTML document, and the stylesheet of its design tokens."""
    document = environment().get_template("book.html.j2").render(
        book=book, labels=book.labels, images=images)
    return document, tokens_css(book, first_page_number=1 - front_pages)


def tokens_css(book, first_page_number, extra=None):
    """The design tokens stylesheet; the first page's number puts folio 01 after the front."""
    profile = Path(book.production["output_profile"])
    if not profile.is_file():
        raise BuildError(f"the output profile {profile} is missing — `make` installs it "
                         "(Debian libgs-common), or set production.output_profile in book.yaml")
    return environment().get_template("tokens.css.j2").render(
        tokens={**design_tokens(book), **(extra or {})}, first_page_number=first_page_number,
        output_profile=profile.resolve().as_uri())


def stylesheets():
    """The stylesheets in cascade order: page geometry, typography, then one per component."""
    return [STYLES / "page.css", STYLES / "typography.css",
            *sorted((STYLES / "components").glob("*.css"))]


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def render(book, pad=False, parts=None, cache_dir=None):
    """Stage 3: lay out the book; the contents' page numbers come from the layout itself.
    With `pad`, the manifest plans the blank pages the binding needs.

    With `parts` (a dict a long-running process keeps between builds, as `watch` does), the
    book is laid out by parts one after another — each chapter alone, then the front matter
    with the folios the chapters landed on — and a part whose source, styles, photos and first
    folio are unchanged is taken from `parts` instead of laid out again: after a caption edit,
    one chapter is, and written again while the other edition is (measured faster, for one
    part, than the parallel way below). Otherwise, a book with a complete folio plan is laid
    out by parts at the same time, on every core, its parts kept in `cache_dir` for the next
    build (_in_parallel); any other book whole. The pages are the same every way (tested page
    for page)."""
    images = image_sources(book)
    pieces, document = None, None
    if parts is not None:
        document, warnings, front_pages, pieces = _by_parts(book, images, parts)
    elif (laid_out := _in_parallel(book, images, cache_dir)) is not None:
        pieces, pages, warnings, front_pages = laid_out
    else:
        document, warnings, front_pages = _whole(book, images)
    if document is not None:
        pages = facts.read(document.pages)
    manifest = _manifest(book, pages, front_pages, images)
    if pad:
        manifest.padding = press.pages_to_add(manifest.page_count, book.production)
    manifest.placed = images_module.placed_sizes(pages)
    return Rendered(document, manifest, warnings, pieces, pages)


def _whole(book, images):
    """The whole book in one layout; the front matter's length is measured first and, should
    the contents run longer with their page numbers in, corrected by a second pass."""
    front_pages = _front_pages(book, images)
    for _ in range(2):
        document, warnings = _layout(book, images, front_pages)
        anchors = facts.anchors(document.pages)
        first = anchors.get(book.chapters[0].id, front_pages) if book.chapters else front_pages
        if first == front_pages:
            return document, warnings, front_pages
        front_pages = first
    raise BuildError(f"the front matter did not settle at {front_pages} pages")


def _by_parts(book, images, parts):
    """The book laid out part by part, reusing the unchanged parts kept in `parts`; also
    each part with the number of its pages the book keeps (all but a part-end page)."""
    template = environment().get_template("book.html.j2")
    state = _layout_state(book)
    used, pieces, folios = {}, [], {}
    folio = 1
    for index, chapter in enumerate(book.chapters):
        last = index == len(book.chapters) - 1
        source = template.render(book=book, labels=book.labels, images=images, part=chapter,
                                 part_end=not last)
        tokens = tokens_css(book, first_page_number=folio)
        part = _part(book, source, tokens, state, images, parts, used)
        keep = len(part.document.pages) - (0 if last else 1)  # drop the part-end page
        for offset, page in enumerate(part.document.pages[:keep]):
            for name in page.anchors:
                folios.setdefault(name, folio + offset)
        pieces.append((part, keep))
        folio += keep
    # The front matter's part-end page holds stand-ins for the chapters' anchors, so its
    # contents links resolve when it is written alone (the stand-ins go with that page).
    source = template.render(book=book, labels=book.labels, images=images, front_only=True,
                             part_end=bool(book.chapters), folios=folios)
    tokens = tokens_css(book, first_page_number=1)
    front = _part(book, source, tokens, state, images, parts, used)
    pieces.insert(0, (front, len(front.document.pages) - (1 if book.chapters else 0)))
    parts.clear()
    parts.update(used)  # keep what this build used, nothing older
    pages = [page for part, keep in pieces for page in part.document.pages[:keep]]
    warnings = [message for part, _ in pieces for message in part.warnings]
    return front.document.copy(pages), warnings, pieces[0][1], pieces


def _in_parallel(book, images, cache_dir=None):
    """The parts laid out at the same time, each from its planned first folio, in as many
    processes as there are cores (forks.run); each process also draws its parts in both
    editions' variants (assemble.write) and reads their pages' facts, since a layout cannot
    leave the process that made it. The front matter prints the planned folios. With
    `cache_dir`, a part whose source, styles, photos, fonts and code are unchanged since the
    last build is read from there instead: after an edit, a new process lays out one part.

    None — lay the book out whole — when the book has no complete folio plan, there is one
    core, or a part did not fill exactly the pages its plan gives it (the whole layout then
    shows where, and preflight reports the drift)."""
    chapters = book.chapters
    planned = [chapter.planned_folio for chapter in chapters]
    items = [item for chapter in chapters for item in (chapter, *chapter.sections)]
    if (forks.jobs() < 2 or len(chapters) < 2 or not hasattr(os, "fork")
            or any(item.planned_folio is None for item in items)):
        return None
    folios = {item.id: item.planned_folio for item in items}
    template = environment().get_template("book.html.j2")
    specs = [(0, {"front_only": True, "part_end": True, "folios": folios}, 1, None)]
    for index, chapter in enumerate(chapters):
        last = index == len(chapters) - 1
        length = None if last else planned[index + 1] - planned[index]
        specs.append((index + 1, {"part": chapter, "part_end": not last}, planned[index], length))
    sources = {index: template.render(book=book, labels=book.labels, images=images, **context)
               for index, context, _, _ in specs}
    tokens = {index: tokens_css(book, first_page_number=folio) for index, _, folio, _ in specs}
    state = _layout_state(book)
    keys = {index: _part_key(state, sources[index], tokens[index], images) for index in sources}
    laid_out = {index: part for index in sources
                if (part := _cached_part(cache_dir, keys[index])) is not None}
    missing = [spec for spec in specs if spec[0] not in laid_out]
    # As many groups as cores, balanced by the size of their HTML (the layout's work).
    groups = [[] for _ in range(min(forks.jobs(), len(missing)))]
    for spec in sorted(missing, key=lambda spec: -len(sources[spec[0]])):
        min(groups, key=lambda group: sum(len(sources[s[0]]) for s in group)).append(spec)
    tasks = {f"group {number}": _laid_out_parts(book, sources, tokens, group)
             for number, group in enumerate(groups)}
    for result in forks.run(tasks).values():
        laid_out.update(result)
        for index, part in result.items():
            _keep_part(cache_dir, keys[index], part)
    _forget_other_parts(cache_dir, keys.values())
    pieces, pages, warnings, landed = [], [], [], {}
    for index, _, first_folio, length in specs:
        part, keep, part_pages = laid_out[index]
        if length is not None and keep != length:
            return None
        for offset, page in enumerate(part_pages if index else ()):
            for name in page.anchors:
                landed.setdefault(name, first_folio + offset)
        pieces.append((part, keep))
        pages += part_pages
        warnings += part.warnings
    if any(landed.get(name) != folio for name, folio in folios.items()):
        return None  # a section did not land on its planned folio: the contents would lie
    return pieces, pages, warnings, pieces[0][1]


def _laid_out_parts(book, sources, tokens, specs):
    """A task for forks.run: lay out, draw and read each part of `specs`."""
    from . import assemble  # assemble subsets the fonts with the layout's font configuration

    def task():
        done = {}
        for index, context, _, _ in specs:
            document, warnings = _weasyprint(book, sources[index], tokens[index])
            keep = len(document.pages) - (1 if context["part_end"] else 0)
            pdfs = {name: assemble.write(document, variant, keep)
                    for name, variant in EDITIONS.items()}
            done[index] = (Part(None, warnings, pdfs), keep,
                           facts.read(document.pages[:keep], part=index))
        return done
    return task


CODE = Path(__file__).resolve().parent


def _layout_state(book):
    """What every part's layout depends on besides its own HTML and tokens: the stylesheets,
    the installed font files book.yaml names, WeasyPrint and this package's code."""
    from . import fonts
    return "\0".join([_files_digest(stylesheets()), _code_state(),
                      *map(repr, map(fonts.files_state,
                                     sorted(set(book.design["fonts"].values()))))])


def _part_key(state, source, tokens, images):
    """A part's cache key: the layout state, its HTML, its tokens (with its first folio) and
    the photos it shows."""
    return hashlib.sha256("\0".join([state, source, tokens, _photos_state(images, source)])
                          .encode("utf-8")).hexdigest()


def _cached_part(cache_dir, key):
    if cache_dir is None:
        return None
    try:
        return pickle.loads((Path(cache_dir) / f"{key}.part").read_bytes())
    except Exception:  # none yet, or unreadable (an older format, a torn write): lay it out
        return None


def _keep_part(cache_dir, key, part):
    if cache_dir is not None:
        cache.keep(Path(cache_dir) / f"{key}.part",
                   pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))


def _forget_other_parts(cache_dir, keys):
    """Keep the parts of this build only (the cache holds one book's worth)."""
    if cache_dir is not None:
        cache.forget_others(cache_dir, "*.part", {f"{key}.part" for key in keys})


def _part(book, source, tokens, state, images, parts, used):
    """One part's layout, from `parts` when nothing it depends on has changed."""
    key = _part_key(state, source, tokens, images)
    used[key] = parts[key] if key in parts else Part(*_weasyprint(book, source, tokens))
    return used[key]


def _files_digest(paths):
    """What the files hold, in a line: a key part for the caches of laid-out documents."""
    return "".join(hashlib.sha256(path.read_bytes()).hexdigest() for path in paths)


def _photos_state(images, source):
    """Size and time of each photo file the part shows: a replaced photo lays it out again."""
    state = []
    for url in sorted({url for url in images.values() if url and url in source}):
        stat = Path(unquote(urlsplit(url).path)).stat()
        state.append(f"{url}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(state)


def _front_pages(book, images):
    """The front matter's page count, from a layout of the front matter alone (a few pages,
    the contents with stand-in folios), rounded up to even: the first chapter opens on a right
    page."""
    stand_in = {item.id: 0 for chapter in book.chapters for item in (chapter, *chapter.sections)}
    source = environment().get_template("book.html.j2").render(
        book=book, labels=book.labels, images=images, front_only=True, folios=stand_in)
    document, _ = _weasyprint(book, source, tokens_css(book, first_page_number=1))
    return len(document.pages) + len(document.pages) % 2


def barcode_url(book):
    if not book.isbn:
        return ""
    svg = isbn.barcode_svg(book.isbn).encode("utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def stamp(book, cache_dir=None):
    """The ISBN stamp as PDF bytes: a right and a left colophon page with the ISBN box only."""
    source = environment().get_template("stamp.html.j2").render(
        book=book, labels=book.labels, barcode=barcode_url(book))
    tokens = tokens_css(book, first_page_number=1)
    return _remembered(source, tokens, stylesheets(),
                       lambda: _written(book, source, tokens, None, "the ISBN stamp", None),
                       cache_dir)


def spine_width_mm(book, pages):
    """The spine: one caliper per leaf (two pages)."""
    return pages / 2 * to_mm(book.production["caliper"])


def cover(book, pages, cache_dir=None):
    """The cover spread as PDF bytes (PDF/X-4, like the print edition): back, spine, front."""
    spine = spine_width_mm(book, pages)
    width = 2 * to_mm(book.design["trim_width"]) + spine
    source = environment().get_template("cover.html.j2").render(
        book=book, labels=book.labels, barcode=barcode_url(book),
        spine_text=book.production["binding"] == "perfect" and spine >= 4)
    tokens = tokens_css(book, first_page_number=1, extra={
        "spine": f"{spine:.3f}mm", "cover-width": f"{width:.3f}mm"})
    sheets = [STYLES / "cover.css"]
    return _remembered(source, tokens, sheets,
                       lambda: _written(book, source, tokens, sheets, "the cover", "pdf/x-4"),
                       cache_dir)


def _written(book, source, tokens, sheets, what, variant):
    document, warnings = _weasyprint(book, source, tokens, sheets)
    if warnings:
        raise BuildError(f"{what}: " + "; ".join(warnings))
    return document.write_pdf(pdf_variant=variant)


_REMEMBERED = {}


def _remembered(source, tokens, sheets, make, cache_dir=None):
    """The small documents a build makes besides the book (the ISBN stamp, the cover) are the
    same from one build to the next: made again only when their HTML, tokens, styles or the
    code change — kept in this process and, with `cache_dir`, for the next one (the eight
    newest)."""
    key = hashlib.sha256("\0".join([source, tokens, _files_digest(sheets), _code_state()])
                         .encode()).hexdigest()
    kept = Path(cache_dir) / f"{key[:40]}.pdf" if cache_dir is not None else None
    if key not in _REMEMBERED:
        if len(_REMEMBERED) >= 8:
            _REMEMBERED.clear()
        _REMEMBERED[key] = kept.read_bytes() if kept is not None and kept.is_file() else make()
    if kept is not None and not kept.is_file():
        cache.keep(kept, _REMEMBERED[key])
        newest = sorted(kept.parent.glob("*.pdf"), key=lambda path: path.stat().st_mtime)[-8:]
        cache.forget_others(kept.parent, "*.pdf", {path.name for path in newest})
    return _REMEMBERED[key]


@functools.lru_cache(maxsize=None)
def _code_state():
    """WeasyPrint's version and this package's code: a key part of the kept layouts."""
    return weasyprint_version + _files_digest(sorted(CODE.glob("*.py")))


def _layout(book, images, front_pages):
    source, tokens = html(book, images, front_pages)
    return _weasyprint(book, source, tokens)


def _weasyprint(book, source, tokens, sheets=None):
    """Lay out an HTML document with the book's stylesheets, reading only the book's files."""
    justify.install()  # Chinese lines justified between characters (WeasyPrint 70 patch)
    pagerefs.install()  # tagged PDFs written in linear time (pydyf 0.13 patch)
    fetcher = ContainedFetcher([TEMPLATES, STYLES, book.catalogue, book.images],
                               files=[book.production["output_profile"]])
    fonts = font_configuration()
    collect = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    try:
        profiles = {}
        css = [CSS(string=tokens, font_config=fonts, url_fetcher=fetcher,
                   color_profiles=profiles)] + [
            CSS(filename=path, font_config=fonts, url_fetcher=fetcher)
            for path in (sheets or stylesheets())]
        # Layout makes millions of short-lived objects and no cycles worth collecting
        # meanwhile: without the cyclic collector it runs a fifth faster.
        gc.disable()
        document = HTML(string=source, base_url=str(PROJECT) + "/", url_fetcher=fetcher).render(
            stylesheets=css, font_config=fonts, color_profiles=profiles)
    finally:
        gc.enable()
        logger.removeHandler(collect)
    if fetcher.refused:
        raise BuildError("refused to read: " + "; ".join(fetcher.refused))
    return document, collect.messages


_FONT_CONFIGURATION = []


def font_configuration():
    """One FontConfiguration for every document this process lays out: each new one starts a
    new Pango font map, which loads the large CJK faces and their glyph caches again (the book
    names only installed fonts, no @font-face, so nothing differs between documents)."""
    if not _FONT_CONFIGURATION:
        _FONT_CONFIGURATION.append(FontConfiguration())
    return _FONT_CONFIGURATION[0]


def _manifest(book, pages, front_pages, images):
    anchors = facts.anchors(pages)
    entries = []

    def add(item, level, title):
        if item.id not in anchors:
            raise BuildError(f"{item.file}:{item.line}: `{item.id}` did not reach the layout")
        page = anchors[item.id]
        entries.append(Entry(item.id, title, level, page, page + 1 - front_pages,
                             item.planned_folio))

    for chapter in book.chapters:
        add(chapter, 1, f"{chapter.number}．{chapter.title}" if chapter.number else chapter.title)
        for section in chapter.sections:
            add(section, 2, f"{section.number}{section.title}")
    missing = [path for path, url in images.items() if url is None]
    return Manifest(front_pages, len(pages), entries, missing, anchors.get("colophon"))


def kinds_without_template():
    """Block kinds that lack their template or their stylesheet (should be none)."""
    return [kind for kind in KINDS
            if not (TEMPLATES / "blocks" / f"{kind}.html.j2").is_file()
            or not (STYLES / "components" / f"{kind}.css").is_file()]

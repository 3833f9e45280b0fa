"""Content → HTML and CSS: the one Jinja environment, the design tokens as CSS custom
properties, and `page()`, the one place a template is filled.

Templates come from the project's `templates/` and, first, from a `templates/` folder beside
the book's catalogue if it has one; stylesheets from `styles/` and then the book's own
`styles/` (its rules after the shared ones): a book changes tokens, or adds its own templates
and rules, without editing the shared ones.
"""

import dataclasses
import functools
import hashlib
from pathlib import Path

import jinja2

from . import STYLES, TEMPLATES, colour, kinds, languages, typography
from .errors import BuildError
from .images import proportion
from .units import to_mm


def own_folder(book, name):
    """The book's own `templates` or `styles` folder beside its catalogue, if it has one."""
    folder = book.catalogue.parent / name
    shared = {"templates": TEMPLATES, "styles": STYLES}[name]
    return folder if folder.is_dir() and folder.resolve() != shared else None


def template_folders(book=None):
    own = own_folder(book, "templates") if book is not None else None
    return [own, TEMPLATES] if own else [TEMPLATES]


def environment(book=None):
    """The Jinja environment of a book's template folders: one per process, so each template
    is compiled once (Jinja checks the files' times and compiles an edited one again)."""
    return _environment(tuple(template_folders(book)))


@functools.lru_cache(maxsize=4)
def _environment(folders):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folders),
                             autoescape=jinja2.select_autoescape(disabled_extensions=("css.j2",),
                                                                 default=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["rows"] = rows
    env.filters["typeset"] = _typeset
    env.filters["plain"] = typography.plain
    env.globals["opening_marks"] = typography.OPENING
    env.filters["mm"] = lambda length: f"{to_mm(length):g}"
    env.filters["to_last_sentence"] = typography.to_last_sentence
    env.filters["phrases"] = _phrases
    env.filters["proportion"] = proportion
    return env


@jinja2.pass_context
def _typeset(context, value):
    """`value` as language Segments (typography.segments), in the language of the block being
    drawn, else the book's."""
    block = context.get("block")
    lang = getattr(block, "lang", None) or context["book"].language
    design = context["book"].design
    return typography.segments(value, lang, design["quotes"], design["punctuation"])


@jinja2.pass_context
def _phrases(context, value):
    """A headline's phrases (typography.phrases), found in the text as it will be set: with
    the book's punctuation choices applied first, so a typed space the choices remove does
    not become a break."""
    design = context["book"].design
    value = str(value)
    if typography.SPAN.search(value):
        return typography.phrases(value)
    return typography.phrases(typography.normalise(value, design["quotes"],
                                                   design["punctuation"]))


def page(book, template, images=None, **context):
    """A template filled with the book, its labels, its photos' sources and `context`."""
    return environment(book).get_template(template).render(
        book=book, labels=book.labels, images=images if images is not None else {}, **context)


def book_html(book, images, **context):
    """The book as one HTML document — or one part of it (`part`: a chapter, `piece` a stretch
    of it; `front_only`: the front matter; `part_end`: end on a page of its own, a left-hand
    one if "left", see render)."""
    return page(book, "book.html.j2", images, **context)


class Parts:
    """The HTML of a chapter's parts (book_html with `part`) and their tokens, each kept in
    `kept` — a dict the session holds from build to build — by what it reads: the book's own
    fields (not its chapters), the photos' sources, the template files and the output
    profile, and the chapter as loaded and the stretch, or the first folio. An edit renders
    again the parts of the chapter it touches only (the catalogue's 38 parts: 0.13 s). `used`:
    what this build used, to keep for the next."""

    def __init__(self, book, images, kept=None):
        self.book, self.images, self.kept, self.used = book, images, kept, {}
        self._common, self._chapters = None, {}

    def html(self, chapter, piece=None, **context):
        bounds = (piece.start, piece.end, piece.rule) if piece is not None else None
        what = ("html", self._digest(chapter), bounds, sorted(context.items()))
        return self._kept(what, lambda: book_html(
            self.book, self.images, part=chapter, piece=piece, **context))

    def front(self, folios, part_end=True):
        """The front matter's HTML (book_html with `front_only`), printing `folios`: its
        contents list every chapter, so all of them are in its key."""
        what = ("front", [self._digest(chapter) for chapter in self.book.chapters],
                sorted(folios.items()), part_end)
        return self._kept(what, lambda: book_html(self.book, self.images, front_only=True,
                                                  part_end=part_end, folios=folios))

    def _digest(self, chapter):
        if id(chapter) not in self._chapters:  # the chapter lives as long as this build
            self._chapters[id(chapter)] = hashlib.sha256(repr(chapter).encode()).hexdigest()
        return self._chapters[id(chapter)]

    def tokens(self, folio):
        """tokens_css for a part whose first page is `folio`."""
        return self._kept(("tokens", folio),
                          lambda: tokens_css(self.book, first_page_number=folio))

    def _kept(self, what, make):
        if self.kept is None:
            return make()
        if self._common is None:
            own = {field.name: getattr(self.book, field.name)
                   for field in dataclasses.fields(self.book)
                   if field.name not in ("chapters", "queries", "sources")}
            files = [Path(self.book.production["output_profile"])] + [
                path for folder in template_folders(self.book) for path in folder.rglob("*")]
            state = sorted((str(path), path.stat().st_mtime_ns, path.stat().st_size)
                           for path in files if path.is_file())
            self._common = hashlib.sha256(repr((own, self.images, state)).encode()).digest()
        key = hashlib.sha256(self._common + repr(what).encode()).digest()
        if key not in self.used:
            self.used[key] = self.kept[key] if key in self.kept else make()
        return self.used[key]


def image_sources(book):
    """Each image path in the content → its file URL, or None while the photo has not arrived."""
    sources = {}
    for path in kinds.image_paths(book):
        file = book.images.joinpath(*Path(path).parts[1:])
        sources[path] = file.resolve().as_uri() if file.is_file() else None
    return sources


# ---------------------------------------------------------------- stylesheets and tokens

def stylesheets(book=None):
    """The stylesheets in cascade order: page geometry, typography, one per component; then
    the book's own."""
    sheets = [STYLES / "page.css", STYLES / "typography.css",
              *sorted((STYLES / "components").glob("*.css"))]
    own = own_folder(book, "styles") if book is not None else None
    if own:
        sheets += sorted(own.glob("*.css")) + sorted(own.glob("components/*.css"))
    return sheets


def layout_inputs(book, tokens, sheets=None):
    """What engine.layout needs besides the HTML: the stylesheets (the tokens first, then the
    book's or `sheets`) and what WeasyPrint may read (the book's folders, the output profile)."""
    production = book.production
    return {"stylesheets": [tokens, *(sheets or stylesheets(book))],
            "roots": readable_folders(book), "files": [production["output_profile"]],
            "fill": (production["fill_grow"] / 100, int(production["fill_spread"]))}


def readable_folders(book):
    """The folders WeasyPrint may read while laying out this book (fetch.ContainedFetcher)."""
    own = [folder for name in ("templates", "styles") if (folder := own_folder(book, name))]
    return [TEMPLATES, STYLES, book.catalogue, book.images, *own]


MODULE = {"quarter": 3, "third": 4, "half": 6, "two-thirds": 8}  # widths in twelfths


def design_tokens(book):
    """CSS custom properties from book.yaml's design tokens, plus the derived geometry."""
    design = book.design
    body_mm = to_mm(design["body_size"])
    type_width = body_mm * int(design["measure"])
    trim_width, trim_height = to_mm(design["trim_width"]), to_mm(design["trim_height"])
    margin_outer = trim_width - to_mm(design["margin_inner"]) - type_width
    # The type area is a whole number of body lines (the baseline grid, engine/grid.py): the
    # nearest to what the margins leave; the foot margin takes the difference.
    line = body_mm * float(design["body_leading"])
    room = trim_height - to_mm(design["margin_top"]) - to_mm(design["margin_bottom"])
    type_height = max(1, round(room / line)) * line
    tokens = {
        "trim-width": design["trim_width"], "trim-height": design["trim_height"],
        "bleed": design["bleed"], "margin-top": design["margin_top"],
        "margin-bottom": f"{trim_height - to_mm(design['margin_top']) - type_height:.4f}mm",
        "margin-inner": design["margin_inner"],
        "margin-outer": f"{margin_outer:.3f}mm", "type-width": f"{type_width:.3f}mm",
        "type-height": f"{type_height:.4f}mm", "line": f"{line:.4f}mm",
        "body-size": design["body_size"], "body-leading": str(design["body_leading"]),
        "section-break": {"any": "page", "left": "left", "right": "right"}[
            design["section_side"]],
    }
    # The column module photo rows and galleries share: twelve columns across the measure
    # (halves, thirds, quarters and two-thirds all fall on it), `gutter` between them; each
    # width a hair (0.05 mm) short so that a row of them never overflows by rounding.
    gutter = to_mm(design["gutter"])
    tokens["gutter"] = f"{gutter:.3f}mm"
    for name, twelfths in MODULE.items():
        tokens[f"columns-{name}"] = f"{twelfths / 12 * (type_width + gutter) - gutter - 0.05:.3f}mm"
    tokens["book-title"] = css_string(typography.plain(book.title))  # the verso running head
    # The layout is drawn in the screen's colours; the press's are mapped in when the print
    # edition is drawn (colour.palette).
    tokens.update({f"colour-{swatch.name}": swatch.css for swatch in colour.swatches(book)})
    tokens.update({f"font-{name.replace('_', '-')}": f'"{family}"'
                   for name, family in design["fonts"].items()})
    return tokens


def css_string(text):
    """`text` as a quoted CSS string (backslash, quotes and line ends escaped)."""
    escaped = "".join(f"\\{ord(c):x} " if c in '\\"\n\r\f' or ord(c) < 0x20 else c
                      for c in text)
    return f'"{escaped}"'


def tokens_css(book, first_page_number, extra=None):
    """The design tokens stylesheet; the first page's number puts folio 01 after the front."""
    profile = Path(book.production["output_profile"])
    if not profile.is_file():
        raise BuildError(f"the output profile {profile} is missing — `make` installs it "
                         "(Debian libgs-common), or set production.output_profile in book.yaml")
    return environment().get_template("tokens.css.j2").render(
        tokens={**design_tokens(book), **(extra or {})}, first_page_number=first_page_number,
        output_profile=profile.resolve().as_uri(), faces=faces(book))


def faces(book):
    """Each language the book's fonts can set (languages.py): its tag, the font stacks of its
    running text and its headings (its own face, then the book's for what that face lacks),
    whether it is hyphenated and whether it is Chinese."""
    named = book.design["fonts"]
    home = languages.of(book.language)
    found = []
    for language in languages.LANGUAGES.values():
        if language.body not in named or language.heading not in named:
            continue
        stacks = [", ".join(f"var(--font-{role.replace('_', '-')})"
                            for role in languages.stack(own, home))
                  for own in (language.body, language.heading)]
        found.append((language.tag, *stacks, language.hyphenate, language.chinese))
    return found


# ---------------------------------------------------------------- template helpers

class Run:
    """Blocks set together: one block, or a row of narrow blocks side by side."""

    def __init__(self, row, blocks, width=0.0):
        self.row, self.blocks, self.width = row, blocks, width


ROW_WIDTHS = {"half": 1 / 2, "third": 1 / 3, "two-thirds": 2 / 3}


class Piece:
    """A stretch of a chapter laid out as a part of its own (render, by parts: an edit lays
    out only the stretch it changes). It begins where every layout of the book breaks to a
    left-hand page — a section's head, or the block after a `pagebreak` — so its spreads are
    its own and a layout of it alone gives the book's pages. `rule` says when the break is
    such a break: "left" always (the break itself goes to a left-hand page), "page" when the
    page before it is no blank one (the stretch before it ended on a right-hand page).

    Positions number the chapter's head and blocks, then each section's head and blocks."""

    def __init__(self, chapter, start, end, rule=None):
        self.chapter, self.start, self.end, self.rule = chapter, start, end, rule
        self.first = start == 0
        self._index = _positions(chapter)

    def joined(self, other):
        """This stretch and the next one as one (their break did not fall on a left page)."""
        return Piece(self.chapter, self.start, other.end, self.rule)

    def shows(self, block):
        return self.start <= self._index[id(block)] < self.end

    def after(self, block):
        return self._index[id(block)] >= self.end

    def past(self, blocks):
        """Whether the stretch begins after all of `blocks` (a container it skips)."""
        return all(self._index[id(block)] < self.start for block in blocks) and \
            not self.first

    def holds(self, section):
        head = self._index[id(section)]
        last = self._index[id(section.blocks[-1])] if section.blocks else head
        return head < self.end and last >= self.start

    @property
    def ends_inside(self):
        """Whether the next stretch is of the same chapter. Its part-end page then stands in
        the chapter where the next stretch's first page does — in the container it continues,
        or in a section of its own before a section's head — so that the grid treats the
        stretch's last page as in the book: the space after its last block rounded to a line
        (grid.in_flow_layout), the page filled when the flow goes on overleaf (grid.fill)."""
        return self.end < len(self._index)

    def ends_within(self, blocks):
        """Whether the next stretch begins inside `blocks`, after a page break."""
        return any(self._index[id(block)] == self.end for block in blocks)

    @property
    def ends_before_section(self):
        """Whether the next stretch begins at a section's head."""
        return any(self._index[id(section)] == self.end for section in self.chapter.sections)

    def opens(self, section):
        """Whether the stretch holds the section's head (else it continues the section)."""
        return self.start <= self._index[id(section)] < self.end

    def begins(self, section):
        """Whether the stretch begins at the section's head."""
        return self.start == self._index[id(section)]


def _positions(chapter):
    index = {id(chapter): 0}  # its head: the title
    for block in chapter.blocks:
        index[id(block)] = len(index)
    for section in chapter.sections:
        index[id(section)] = len(index)
        for block in section.blocks:
            index[id(block)] = len(index)
    return index


def pieces(chapter, section_side):
    """The chapter cut where every layout breaks to a left-hand page (Piece): at each
    section's head when sections open on a left page (`section_side` left; any: the next
    page, "page"), and after each `pagebreak` to a page or a left page that more blocks of
    its container follow."""
    breaks = {}
    position = 1  # after the chapter's head
    containers = [(None, chapter.blocks)] + [(section, section.blocks)
                                             for section in chapter.sections]
    for section, blocks in containers:
        if section is not None:
            rule = {"left": "left", "any": "page"}.get(section_side)
            if rule:
                breaks[position] = rule
            position += 1
        for number, block in enumerate(blocks):
            position += 1
            side = block.fields.get("side") if block.kind == "pagebreak" else None
            if side in ("page", "left") and number < len(blocks) - 1:
                breaks.setdefault(position, "left" if side == "left" else "page")
    starts = [0, *sorted(breaks), position]
    return [Piece(chapter, start, end, breaks.get(start))
            for start, end in zip(starts, starts[1:]) if end > start]


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


def kinds_without_template():
    """Block kinds that lack their template or their stylesheet (should be none)."""
    return [kind for kind in kinds.KINDS
            if not (TEMPLATES / "blocks" / f"{kind}.html.j2").is_file()
            or not (STYLES / "components" / f"{kind}.css").is_file()]

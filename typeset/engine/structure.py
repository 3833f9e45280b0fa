"""The screen edition's structure tree as the content model knows it: the patch `structure`
of WeasyPrint 70's tagging (engine/patches.py installs it).

Why: WeasyPrint 70 tags running heads and folios as content (a screen reader reads 「前言 05」
on every page), puts link annotations under Span or NonStruct and a Link in a Link (a
pseudo-element of a link is a link again), writes no /Lang for an element's lang, no /Scope
for table headers, figure boxes in CSS pixels from the top, a Span for every run of text even
directly under a Sect, and knows nothing of a figure's caption or of a contents page.

What it replaces, and nothing else:

- `Stream.marked`: a box of a page's margin (running head, folio) is drawn as an Artifact,
  with no MCID; a text box set with letter spacing (CSS, or inter-character justification)
  carries its text as /ActualText, so copying it gives the text, not letters and spaces.
- `tags.add_tags` / `_build_box_tree`: the tree built from the boxes, as WeasyPrint does, with:
  a template's `data-tag` naming an element's structure type (`Figure`, `TOC`, `TOCI`, `Art`,
  `BlockQuote`, `Caption`, `LI`, `Lbl`, `LBody`, `H3` …, or `none`: no element of its own)
  and `data-alt` its alternate text; margin boxes left out; an image inside an element that is
  a Figure adds its marked content to that Figure (one Figure per photo, its caption a child);
  a `span` without `lang` and a pseudo-element add no element (a link's text stays in its
  Link); text directly in a grouping element (Sect, Div, Art, BlockQuote …) is a P; /Lang
  where an element's lang differs from the document's; TH with /Scope and an /ID unique in the
  book; TD /Headers only when there are any; Figure /BBox in PDF points.
"""

import contextvars
from contextlib import contextmanager

import pydyf
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.pdf import tags as weasyprint_tags

ORIGINAL = {}  # WeasyPrint's own functions, kept by patches.install

FURNITURE = contextvars.ContextVar("furniture", default=frozenset())
PX_TO_PT = 0.75
GROUPING = {"/Document", "/Part", "/Sect", "/Div", "/Art", "/BlockQuote", "/TOC", "/L",
            "/Table", "/THead", "/TBody", "/TFoot", "/TR", "/NonStruct"}


def furniture(document):
    """The boxes of every page's margins (running heads, folios): drawn as artifacts."""
    found = set()
    for page in document.pages:
        for margin in page._page_box.children:
            if isinstance(margin, boxes.MarginBox):
                stack = [margin]
                while stack:
                    box = stack.pop()
                    found.add(id(box))
                    stack.extend(getattr(box, "children", None) or ())
    return frozenset(found)


@contextmanager
def drawing(document):
    """While a document is drawn: its margins' boxes are furniture."""
    token = FURNITURE.set(furniture(document))
    try:
        yield
    finally:
        FURNITURE.reset(token)


@contextmanager
def marked(self, box, tag):
    """Replaces `weasyprint.pdf.stream.Stream.marked`."""
    if self._tags is None:
        yield
        return
    if id(box) in FURNITURE.get():
        self.begin_marked_content("Artifact")
        try:
            yield
        finally:
            self.end_marked_content()
        return
    mcid = len(self._tags)
    self._tags[box] = {"tag": tag, "mcid": mcid}
    properties = pydyf.Dictionary({"MCID": mcid})
    text = getattr(box, "text", None)
    if text and _spaced(box):
        properties["ActualText"] = pydyf.String(text)
    pydyf.Stream.begin_marked_content(self, tag, properties)
    try:
        yield
    finally:
        pydyf.Stream.end_marked_content(self)


def _spaced(box):
    spacing = box.style["letter_spacing"]
    justified = getattr(getattr(box, "pango_layout", None), "inter_character_spacing", 0)
    return (spacing != "normal" and spacing) or justified


def add_tags(pdf, document, pdf_version, page_streams):
    """Replaces `weasyprint.pdf.tags.add_tags`: the same root, parent tree and annotations'
    struct parents; the elements built by `_build`."""
    content_mapping = pydyf.Dictionary({})
    pdf.add_object(content_mapping)
    root = pydyf.Dictionary({"Type": "/StructTreeRoot", "ParentTree": content_mapping.reference})
    pdf.add_object(root)
    document_element = pydyf.Dictionary({"Type": "/StructElem", "S": "/Document",
                                         "K": pydyf.Array(), "P": root.reference})
    pdf.add_object(document_element)
    root["K"] = pydyf.Array([document_element.reference])
    pdf.catalog["StructTreeRoot"] = root.reference
    language = document.pages[0]._page_box.element.get("lang") if document.pages and \
        document.pages[0]._page_box.element is not None else None
    content_mapping["Nums"] = pydyf.Array()
    annotations, named = [], set()
    for page_number, (page, stream) in enumerate(zip(document.pages, page_streams)):
        tags = stream._tags
        content_mapping["Nums"].append(page_number)
        content_mapping["Nums"].append(pydyf.Array())
        nums = {}
        context = _Context(pdf, page_number, nums, annotations, tags, page.height, language,
                           named)
        for element in _build(page._page_box, document_element, context):
            document_element["K"].append(element.reference)
        content_mapping["Nums"][-1].extend(reference for _, reference in sorted(nums.items()))
    start = len(document.pages)
    for index, (reference, annotation) in enumerate(annotations, start=start):
        content_mapping["Nums"].append(index)
        content_mapping["Nums"].append(reference)
        annotation["StructParent"] = index
    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})
    pdf.catalog["MarkInfo"] = pydyf.Dictionary({"Marked": "true"})
    if "Lang" not in pdf.catalog:
        pdf.catalog["Lang"] = pydyf.String(language or "")


class _Context:
    def __init__(self, pdf, page_number, nums, annotations, tags, height, language, named):
        self.pdf, self.page_number, self.nums = pdf, page_number, nums
        self.annotations, self.tags, self.height = annotations, tags, height
        self.language = language
        self.named = named  # the HTML ids given to an element already (on an earlier page)

    @property
    def page(self):
        return self.pdf.page_references[self.page_number]

    def element(self, kind, parent):
        element = pydyf.Dictionary({"Type": "/StructElem", "S": f"/{kind}",
                                    "K": pydyf.Array([]), "Pg": self.page,
                                    "P": parent.reference})
        self.pdf.add_object(element)
        return element

    def claim(self, box, owner):
        """The marked content of `box` (drawn by `marked`) now belongs to `owner`."""
        kid = self.tags.pop(box, None)
        if kid is not None:
            owner["K"].append(kid["mcid"])
            self.nums[kid["mcid"]] = owner.reference


def _kind(box):
    """The structure type of a box's element: `data-tag`, else WeasyPrint's mapping; None for
    no element of its own."""
    element = box.element
    if element is None:
        return "NonStruct"
    tag = box.element_tag
    if "::" in tag:
        return "Lbl" if tag == "li::marker" else None
    given = element.get("data-tag")
    if given:
        return None if given == "none" else given
    if tag == "span" and not element.get("lang"):
        return None
    return weasyprint_tags._get_pdf_tag(tag)


def _build(box, parent, context):
    """The elements for `box` under `parent` (yielded; its text and images claimed)."""
    if isinstance(box, AbsolutePlaceholder):
        box = box._box
    if isinstance(box, boxes.MarginBox):
        return  # drawn as artifacts
    if isinstance(box, boxes.PageBox) or (box.element is not None
                                          and box.element_tag in ("html", "body")):
        for child in box.children:
            yield from _build(child, parent, context)
        return
    kind = _kind(box)
    if kind in ("TD", "TH") and parent["S"] in ("/TD", "/TH"):
        kind = None  # an anonymous block of a cell
    if box.element is not None and box.element is getattr(parent, "html", None) and \
            kind not in ("Figure", "Lbl"):
        kind = None  # an anonymous box of the parent's element (a block inside a P)
    reference = None
    if kind == "Link" and parent["S"] == "/TOCI":
        # A contents entry's link, under the Reference a TOCI holds (ISO 32005).
        reference = parent = context.element("Reference", parent)
    if kind is None or (kind == "Figure" and parent["S"] == "/Figure"
                        and isinstance(box, boxes.ReplacedBox)):
        # No element of its own: its content (and its link, a pseudo-element's) belongs to
        # the parent.
        _link(box, parent, context)
        yield from _content(box, parent, context)
        return
    element = context.element(kind, parent)
    element.html = box.element
    _attributes(element, box, kind, parent, context)
    if kind == "Table" and getattr(box, "is_table_wrapper", False):
        # The wrapped table is the element, its captions inside it (as WeasyPrint does).
        wrapper, table = box, box.get_wrapped_table()
        if table:
            box = table.copy_with_children([])
            for child in wrapper.children:
                box.children.extend(child.children if child is table else [child])
    _link(box, element, context)
    for child in _content(box, element, context):
        element["K"].append(child.reference)
    if kind == "Table":
        _table_headers(box, element, context)
    if reference is not None:
        reference["K"].append(element.reference)
        yield reference
    else:
        yield element


def _link(box, element, context):
    """A box's link annotation, referred to by `element` (an OBJR) and pointing back to it."""
    annotation = getattr(box, "link_annotation", None)
    if annotation:
        text = " ".join("".join(_text(box)).split())
        if text:  # what a screen reader says for the link (WeasyPrint: the target's id)
            annotation["Contents"] = pydyf.String(text)
        reference = pydyf.Dictionary({"Type": "/OBJR", "Obj": annotation.reference,
                                      "Pg": context.page})
        context.pdf.add_object(reference)
        context.annotations.append((element.reference, annotation))
        element["K"].append(reference.reference)


def _text(box):
    """A box's text as read: its own and its pseudo-elements', a leader read as a space."""
    if getattr(box, "is_leader", False):
        yield " "
        return
    if isinstance(box, boxes.TextBox):
        yield box.text
    for child in getattr(box, "children", None) or ():
        yield from _text(child)


def _content(box, element, context):
    """The children of `box` as elements of `element`; text and images claimed by it (or by a
    P made for them when `element` only groups)."""
    if isinstance(box, boxes.ReplacedBox):
        owner = element
        if element["S"] != "/Figure":
            owner = context.element("Figure", element)
            owner["A"] = _bbox(box, context)
            yield owner
        context.claim(box, owner)
        if "A" not in element and element["S"] == "/Figure":
            element["A"] = _bbox(box, context)
        return
    holder = None  # a P for text directly in a grouping element, an LBody in a list item
    for child in getattr(box, "children", None) or ():
        for item in (child.children if isinstance(child, boxes.LineBox) else [child]):
            if isinstance(item, boxes.TextBox):
                owner = element
                if element["S"] in GROUPING or element["S"] == "/LI":
                    if holder is None:
                        holder = context.element("LBody" if element["S"] == "/LI" else "P",
                                                 element)
                        yield holder
                    owner = holder
                context.claim(item, owner)
            else:
                yield from _build(item, element, context)


def _attributes(element, box, kind, parent, context):
    html = box.element
    language = html.get("lang") if html is not None else None
    if language and language != context.language:
        element["Lang"] = pydyf.String(language)
    if kind == "Figure":
        alt = html.get("data-alt") or html.get("alt") if html is not None else None
        if html is not None and html.tag == "{http://www.w3.org/2000/svg}svg":
            title = html.find("{http://www.w3.org/2000/svg}title")
            alt = alt or (title.text if title is not None else None)
        if alt:
            element["Alt"] = pydyf.String(alt)
        element["A"] = _bbox(box, context)
    elif kind in ("TH", "TD"):
        element["A"] = pydyf.Dictionary({"O": "/Table"})
        if box.colspan != 1:
            element["A"]["ColSpan"] = box.colspan
        if box.rowspan != 1:
            element["A"]["RowSpan"] = box.rowspan
        if kind == "TH":
            element["A"]["Scope"] = "/Row" if html.get("scope") == "row" else "/Column"
        box.mark = element
    elif kind == "L":
        element["A"] = pydyf.Dictionary({"O": "/List",
                                         "ListNumbering": _numbering(box, html)})
    anchor = html.get("id") if html is not None else None
    if anchor and anchor not in context.named:
        # The element a link to #anchor goes to (its first page's): post-processing makes
        # the links' and the outline's destinations structure destinations (tags.py).
        context.named.add(anchor)
        element["ID"] = pydyf.String(anchor)
    if html is not None and html.get("data-actual"):
        element["ActualText"] = pydyf.String(html.get("data-actual"))


NUMBERING = {"disc": "Disc", "circle": "Circle", "square": "Square", "decimal": "Decimal",
             "upper-roman": "UpperRoman", "lower-roman": "LowerRoman",
             "upper-alpha": "UpperAlpha", "upper-latin": "UpperAlpha",
             "lower-alpha": "LowerAlpha", "lower-latin": "LowerAlpha"}


def _numbering(box, html):
    """A list's /ListNumbering: a description list's terms are its labels; otherwise its
    markers' style, Ordered or Unordered when PDF has no name for it (cjk-decimal …)."""
    if html is not None and html.tag == "dl":
        return "/Description"
    style = box.style["list_style_type"]
    if style == "none":
        return "/None"
    return "/" + NUMBERING.get(style, "Ordered" if box.element_tag == "ol" else "Unordered")


def _bbox(box, context):
    """A box's border box in PDF points (y upwards), as a Layout attribute."""
    x1, y1 = box.border_box_x(), box.border_box_y()
    x2, y2 = x1 + box.border_width(), y1 + box.border_height()
    height = context.height
    return pydyf.Dictionary({"O": "/Layout", "BBox": pydyf.Array((
        round(x1 * PX_TO_PT, 2), round((height - y2) * PX_TO_PT, 2),
        round(x2 * PX_TO_PT, 2), round((height - y1) * PX_TO_PT, 2)))})


def _table_headers(table, element, context):
    """Each TH an ID unique in the book (its table's content line, page, row, column); each
    TD the IDs of the headers of the columns it spans and of its row, when it has any."""
    source = (table.element.get("data-source") if table.element is not None else None) or \
        str(element.number)

    def rows(box):
        for child in box.children:
            yield from [child] if child.element_tag == "tr" else rows(child)

    grid, taken = [], set()  # each cell's first column, past the rows spanned from above
    for i, row in enumerate(rows(table)):
        column, placed = 0, []
        for cell in row.children:
            while (i, column) in taken:
                column += 1
            placed.append((cell, column))
            for down in range(cell.rowspan):
                for across in range(cell.colspan):
                    taken.add((i + down, column + across))
            column += cell.colspan
        grid.append(placed)
    columns, row_headers = {}, {}
    for i, placed in enumerate(grid):
        for cell, column in placed:
            mark = getattr(cell, "mark", None)
            if mark is not None and cell.element_tag == "th":
                key = pydyf.String(f"{source}:{context.page_number}:{i}:{column}")
                mark["ID"] = key
                if cell.element.get("scope") == "row":
                    row_headers.setdefault(i, []).append(key)
                else:
                    for across in range(cell.colspan):
                        columns.setdefault(column + across, []).append(key)
    for i, placed in enumerate(grid):
        for cell, column in placed:
            mark = getattr(cell, "mark", None)
            if mark is not None and cell.element_tag == "td":
                headers = [*row_headers.get(i, [])] + [
                    key for across in range(cell.colspan) for key in columns.get(column + across, [])]
                if headers:
                    mark["A"]["Headers"] = pydyf.Array(headers)

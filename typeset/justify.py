"""Inter-character justification for Chinese text, as a patch of WeasyPrint 70.

Why: WeasyPrint 70 justifies a line by stretching its spaces only (`justify_line` →
`count_expandable_spaces` / `add_word_spacing` in `weasyprint/layout/inline.py`), so a line of
Han characters, which has no spaces, stays ragged, and a mixed Han/Latin line puts all its slack
into its one space. CSS Text 3 (`text-justify: inter-character`) and W3C clreq justify Chinese
by spreading the slack between the characters.

What: `install()` replaces two functions, and nothing else:

- `weasyprint.layout.inline.justify_line` (called by `text_align` for each justified line that
  is not the last of its paragraph and does not end in a forced break): the slack (available
  width − line width) is divided equally among the line's justification opportunities — the
  gap after each grapheme cluster of its TextBoxes, except after the line's last one (a space is
  one opportunity like any other character; a line with no gap keeps its slack). Each TextBox
  gets a new Pango layout carrying that spacing, its width becomes the measured width of that
  layout (plus one gap after its last character when more text follows on the line), and the
  boxes after it are shifted by the width added before them, as `add_word_spacing` does.
  Right-to-left lines keep WeasyPrint's own justification.
- `weasyprint.text.line_break.Layout.set_text`: when called with `justify=True` (which
  `add_word_spacing` and `Layout.reactivate` do — `draw/text.py` reactivates every text box's
  layout before drawing it) on a layout that carries `inter_character_spacing`, the original
  attributes are completed with a Pango letter-spacing attribute over the whole text, so the
  spacing survives `reactivate` and the drawing matches the layout.

Pango puts half of an item's letter spacing on each side of every cluster and drops the outer
halves at the ends of a layout's line (measured with Pango 1.50: one attribute over a text of n
clusters widens it by exactly (n − 1) × spacing, first glyph not offset). So one attribute over
a whole TextBox keeps its first character flush left and its last character flush right; the gap
between two TextBoxes is added explicitly to the width of the first. The width actually gained
is measured, not assumed: when Pango counts the clusters differently from `clusters()` (e.g. a
ligature), the spacing is rescaled once so the line still ends flush.

No character is added: the PDF's text layer stays the source text.
"""

import unicodedata

import weasyprint
from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.text import line_break
from weasyprint.text.ffi import TO_UNITS, ffi, pango

_ORIGINAL = {}


def install():
    """Patch WeasyPrint 70 (idempotent); call once before rendering."""
    assert weasyprint.__version__ == "70.0", (
        f"typeset.justify patches WeasyPrint 70.0 internals (layout.inline.justify_line, "
        f"text.line_break.Layout.set_text); found WeasyPrint {weasyprint.__version__}: "
        f"check those functions and update the patch")
    if _ORIGINAL:
        return
    _ORIGINAL["justify_line"] = inline.justify_line
    _ORIGINAL["set_text"] = line_break.Layout.set_text
    inline.justify_line = justify_line
    line_break.Layout.set_text = set_text


def uninstall():
    """Restore WeasyPrint's own functions (for before/after comparisons)."""
    if _ORIGINAL:
        inline.justify_line = _ORIGINAL.pop("justify_line")
        line_break.Layout.set_text = _ORIGINAL.pop("set_text")


def clusters(text):
    """Approximate count of grapheme clusters (Pango's letter-spacing units) in `text`."""
    count, joined = 0, False
    for char in text:
        code = ord(char)
        extend = (unicodedata.category(char) in ("Mn", "Me") or 0xFE00 <= code <= 0xFE0F
                  or 0xE0100 <= code <= 0xE01EF or 0x1F3FB <= code <= 0x1F3FF)
        if not (extend or joined or code == 0x200D):
            count += 1
        joined = code == 0x200D
    return count


def _text_boxes(box):
    """In-flow TextBoxes with text under a line box, in document (LTR visual) order."""
    if isinstance(box, boxes.TextBox):
        if box.text:
            yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            if child.is_in_normal_flow():
                yield from _text_boxes(child)


def _relayout(context, box, spacing):
    """A justified layout of `box.text` with `spacing` between clusters, and its width."""
    layout = line_break.create_layout(box.text, box.style, context, None, 0)
    layout.inter_character_spacing = spacing
    layout.set_text(box.text, justify=True)
    first_line, _ = layout.get_first_line()
    width, _ = line_break.line_size(first_line, box.style)
    layout.deactivate()
    return layout, width


def justify_line(context, line, extra_width):
    """Replacement of `weasyprint.layout.inline.justify_line`: spread `extra_width` between
    all the clusters of the line's text (see the module docstring)."""
    if line.style["direction"] == "rtl":
        return _ORIGINAL["justify_line"](context, line, extra_width)
    texts = list(_text_boxes(line))
    gaps = sum(clusters(box.text) for box in texts) - 1
    if gaps <= 0 or extra_width <= 0:
        return
    spacing = extra_width / gaps
    for _ in range(2):
        widths = {}
        for box in texts:
            layout, width = _relayout(context, box, spacing)
            # Pango leaves no spacing after a layout's last cluster: add the gap to the
            # next TextBox on the line here.
            widths[id(box)] = layout, width + (spacing if box is not texts[-1] else 0)
        gained = sum(width for _, width in widths.values()) - sum(box.width for box in texts)
        if gained <= 0 or abs(gained - extra_width) < 0.01:
            break
        spacing *= extra_width / gained  # Pango counted the clusters differently
    _shift(line, 0, widths)


def _shift(box, x_advance, widths):
    """Give each TextBox its new layout and width and move what follows, like
    `add_word_spacing`; return the accumulated advance."""
    if isinstance(box, boxes.TextBox):
        box.position_x += x_advance
        if id(box) in widths:
            box.pango_layout, width = widths[id(box)]
            x_advance += width - box.width
            box.width = width
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        box.position_x += x_advance
        before = x_advance
        for child in box.children:
            if child.is_in_normal_flow():
                x_advance = _shift(child, x_advance, widths)
        box.width += x_advance - before
    else:  # atomic inline-level box
        box.translate(x_advance, 0)
    return x_advance


def set_text(self, text, justify=False):
    """Replacement of `weasyprint.text.line_break.Layout.set_text`: the original, plus, when
    justifying a layout made by `justify_line`, a letter-spacing attribute over the whole text
    (on top of the style's letter-spacing, and word-spacing on spaces)."""
    _ORIGINAL["set_text"](self, text, justify)
    spacing = getattr(self, "inter_character_spacing", 0)
    if not (justify and spacing and self.text):
        return
    letter_spacing = self.style["letter_spacing"]
    base = spacing + (0 if letter_spacing == "normal" else letter_spacing)
    word_spacing = self.style["word_spacing"]
    attr_list = pango.pango_layout_get_attributes(self.layout)
    if attr_list == ffi.NULL:
        attr_list = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)

    def add(start, end, value):
        attr = pango.pango_attr_letter_spacing_new(int(value * TO_UNITS))
        attr.start_index, attr.end_index = start, end
        pango.pango_attr_list_change(attr_list, attr)

    encoded = self.text.encode()
    add(0, len(encoded), base)
    if word_spacing:
        for index, byte in enumerate(encoded):
            if byte == 0x20:
                add(index, index + 1, base + word_spacing)
        for index in (i for i in range(len(encoded) - 1) if encoded[i:i + 2] == b"\xc2\xa0"):
            add(index, index + 2, base + word_spacing)
    pango.pango_layout_set_attributes(self.layout, attr_list)

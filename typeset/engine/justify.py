"""Inter-character justification for Chinese text, as a patch of WeasyPrint 70.

Why: WeasyPrint 70 justifies a line by stretching its spaces only (`justify_line` →
`count_expandable_spaces` / `add_word_spacing` in `weasyprint/layout/inline.py`), so a line of
Han characters, which has no spaces, stays ragged, and a mixed Han/Latin line puts all its slack
into its one space. CSS Text 3 (`text-justify: inter-character`) and W3C clreq justify Chinese
by spreading the slack between the characters.

What: the patch `justify` (engine/patches.py, which installs it) replaces two functions, and
nothing else:

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
is measured, not assumed: when Pango counts the clusters differently from `clusters()`, or when
letter spacing turns a ligature (fi, ffl) back into letters, the spacing is corrected (at most
twice) so the line still ends flush. A letter-spacing set in CSS is kept; the one WeasyPrint
counts after the line's last character is spread over the gaps too, so that character is flush.

No character is added: the PDF's text layer stays the source text.

Limits: every cluster gets the same share, Latin letters and digits included (a short line of
Latin or a line broken early by the line-breaking rules is visibly letter-spaced). The drawing
(`draw_first_line`) truncates each glyph's TJ adjustment to 1/1000 em, so a spaced line can end
up to (number of glyphs) × font-size / 1000 short: ≤ 0.5 pt for 47 characters at 10.5 pt.
Ellipsis (`text-overflow`, `block-ellipsis`) resets the text without `justify` and drops the
spacing on that line.
"""

import re

from weasyprint.formatting_structure import boxes
from weasyprint.text import line_break
from weasyprint.text.ffi import TO_UNITS, ffi, pango

ORIGINAL = {}  # WeasyPrint's own functions, kept by patches.install


# Code points that do not start a grapheme cluster: combining marks (the common blocks),
# variation selectors, emoji modifiers, and a zero-width joiner with the character it joins.
_EXTEND = re.compile("[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f"
                     "\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\u3099\u309a\ufe00-\ufe0f"
                     "\ufe20-\ufe2f\U0001f3fb-\U0001f3ff\U000e0100-\U000e01ef]|\u200d.?")


def clusters(text):
    """Approximate count of grapheme clusters (Pango's letter-spacing units) in `text`;
    `justify_line` corrects the spacing when Pango counts otherwise."""
    return len(text) - sum(len(match) for match in _EXTEND.findall(text))


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
        return ORIGINAL["justify_line"](context, line, extra_width)
    texts = list(_text_boxes(line))
    gaps = sum(clusters(box.text) for box in texts) - 1
    if gaps <= 0 or extra_width <= 0:
        return
    # WeasyPrint counts a letter-spacing after the last character of each box; at the end of
    # the line it would leave the last character short of the edge: spread it too.
    trail = texts[-1].style["letter_spacing"]
    trail = 0 if trail == "normal" else trail
    spacing = (extra_width + trail) / gaps
    for _ in range(3):
        widths = {}
        for box in texts:
            layout, width = _relayout(context, box, spacing)
            # Pango leaves no spacing after a layout's last cluster: add the gap to the
            # next TextBox on the line here.
            widths[id(box)] = layout, width + (spacing if box is not texts[-1] else -trail)
        error = extra_width - sum(width for _, width in widths.values()) + sum(
            box.width for box in texts)
        if abs(error) < 0.01 + gaps / TO_UNITS:  # Pango rounds spacing to 1/1024 px
            break
        # Pango counted the clusters differently, or letter spacing disabled a ligature.
        spacing += error / gaps
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
    ORIGINAL["set_text"](self, text, justify)
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
        attr = pango.pango_attr_letter_spacing_new(round(value * TO_UNITS))
        attr.start_index, attr.end_index = start, end
        pango.pango_attr_list_change(attr_list, attr)

    encoded = self.text.encode()
    add(0, len(encoded), base)
    if word_spacing:
        for match in re.finditer(" |\u00a0".encode(), encoded):
            add(match.start(), match.end(), base + word_spacing)
    pango.pango_layout_set_attributes(self.layout, attr_list)

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
  width − line width) is divided among the line's justification opportunities: in Chinese text
  (`lang` zh-…) the gaps beside each Han character, Chinese punctuation mark and space; in
  Latin text, and around Latin words and numbers inside Chinese text, the spaces only — Latin is
  justified by word spacing, never letter-spaced (`stretches`). A line with no opportunity
  keeps its slack; a line with no Chinese text is left to WeasyPrint's own word spacing. Each TextBox
  gets a new Pango layout carrying that spacing, its width becomes the measured width of that
  layout (plus one gap after its last character when more text follows on the line), and the
  boxes after it are shifted by the width added before them, as `add_word_spacing` does.
  Right-to-left lines keep WeasyPrint's own justification.
- `weasyprint.text.line_break.Layout.set_text`: when called with `justify=True` (which
  `add_word_spacing` and `Layout.reactivate` do — `draw/text.py` reactivates every text box's
  layout before drawing it) on a layout that carries `inter_character_spacing`, the original
  attributes are completed with Pango letter-spacing attributes over the stretching clusters
  (`inter_character_ranges`), so the spacing survives `reactivate` and the drawing matches the
  layout.

Pango puts half of an item's letter spacing on each side of every cluster and drops the outer
halves at the ends of a layout's line (measured with Pango 1.50: one attribute over a text of n
clusters widens it by exactly (n − 1) × spacing, first glyph not offset). So a gap between two
stretching clusters takes a whole share, a gap between one that stretches and one that does not
(Han then a Latin letter) half a share, two Latin letters none; a TextBox keeps its first
character flush left and its last character flush right; the gap between two TextBoxes is added
explicitly to the width of the first. The width actually gained
is measured, not assumed: when Pango counts the clusters differently from `clusters()`, or when
letter spacing turns a ligature (fi, ffl) back into letters, the spacing is corrected (at most
twice) so the line still ends flush. A letter-spacing set in CSS is kept; the one WeasyPrint
counts after the line's last character is spread over the gaps too, so that character is flush.

No character is added: the PDF's text layer stays the source text.

Limits: every opportunity gets the same share (a Chinese line broken early by the line-breaking
rules is visibly spaced; a line of Latin with few spaces in Chinese text puts its slack there).
The drawing
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


# Set as Chinese: a justification opportunity on both sides of each (clreq). Everything else —
# Latin letters, digits and their punctuation — only at spaces, as Latin text is justified.
_HAN = re.compile("[\u2e80-\u2fff\u3000-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                  "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]")
_MARKS = "\u2018\u2019\u201c\u201d\u2014\u2026\u00b7\u2e3a"  # full-width in Chinese text
_SPACES = " \u00a0\u3000"


def _is_chinese(style):
    return str(style["lang"] or "").lower().startswith("zh")


def stretches(text, chinese):
    """For each cluster of `text` (its start and end in `text`): whether it stretches —
    Han characters, Chinese punctuation and spaces in Chinese text (`chinese`), spaces only
    in Latin text. A quote between two Latin letters is an apostrophe: it does not."""
    found = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and (_EXTEND.match(text[j]) or text[j - 1] == "\u200d"):
            j += 1
        char = text[i]
        if char in _SPACES:
            stretch = True
        elif not chinese:
            stretch = False
        elif char in _MARKS:
            stretch = not (0 < i and j < len(text) and text[i - 1].isalnum()
                           and text[j].isalnum() and not _HAN.match(text[i - 1]))
        else:
            stretch = bool(_HAN.match(char))
        found.append((i, j, stretch))
        i = j
    return found


def _text_boxes(box):
    """In-flow TextBoxes with text under a line box, in document (LTR visual) order."""
    if isinstance(box, boxes.TextBox):
        if box.text:
            yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            if child.is_in_normal_flow():
                yield from _text_boxes(child)


def _relayout(context, box, spacing, ranges):
    """A justified layout of `box.text` with `spacing` around the clusters of `ranges` (byte
    ranges of the text), and its width."""
    layout = line_break.create_layout(box.text, box.style, context, None, 0)
    layout.inter_character_spacing = spacing
    layout.inter_character_ranges = ranges
    layout.set_text(box.text, justify=True)
    first_line, _ = layout.get_first_line()
    width, _ = line_break.line_size(first_line, box.style)
    layout.deactivate()
    return layout, width


def _byte_ranges(text, found):
    """The UTF-8 byte ranges of the stretching clusters, consecutive ones joined."""
    ranges, offset, position = [], 0, 0
    for start, end, stretch in found:
        offset += len(text[position:start].encode())
        size = len(text[start:end].encode())
        if stretch:
            if ranges and ranges[-1][1] == offset:
                ranges[-1][1] = offset + size
            else:
                ranges.append([offset, offset + size])
        offset += size
        position = end
    return [tuple(r) for r in ranges]


def justify_line(context, line, extra_width):
    """Replacement of `weasyprint.layout.inline.justify_line`: spread `extra_width` over the
    line's justification opportunities (see the module docstring)."""
    if line.style["direction"] == "rtl":
        return ORIGINAL["justify_line"](context, line, extra_width)
    texts = list(_text_boxes(line))
    if not texts or extra_width <= 0:
        return
    if not any(_is_chinese(box.style) for box in texts):
        return ORIGINAL["justify_line"](context, line, extra_width)  # word spacing
    found = {id(box): stretches(box.text, _is_chinese(box.style)) for box in texts}
    # A gap between two clusters takes half a share from each side that stretches (Pango
    # spaces each side of a cluster by half its letter spacing).
    flags = [stretch for box in texts for _, _, stretch in found[id(box)]]
    weight = sum(a + b for a, b in zip(flags, flags[1:])) / 2
    if weight <= 0:
        return
    # WeasyPrint counts a letter-spacing after the last character of each box; at the end of
    # the line it would leave the last character short of the edge: spread it too.
    trail = texts[-1].style["letter_spacing"]
    trail = 0 if trail == "normal" else trail
    spacing = (extra_width + trail) / weight
    ranges = {id(box): _byte_ranges(box.text, found[id(box)]) for box in texts}
    for _ in range(3):
        widths = {}
        for box, after in zip(texts, texts[1:] + [None]):
            layout, width = _relayout(context, box, spacing, ranges[id(box)])
            # Pango leaves no spacing after a layout's last cluster: the gap to the next
            # TextBox on the line is added here.
            if after is None:
                width -= trail
            else:
                width += spacing * (found[id(box)][-1][2] + found[id(after)][0][2]) / 2
            widths[id(box)] = layout, width
        error = extra_width - sum(width for _, width in widths.values()) + sum(
            box.width for box in texts)
        if abs(error) < 0.01 + weight / TO_UNITS:  # Pango rounds spacing to 1/1024 px
            break
        # Pango counted the clusters differently, or letter spacing disabled a ligature.
        spacing += error / weight
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
    own = 0 if letter_spacing == "normal" else letter_spacing
    if own:
        add(0, len(encoded), own)
    for start, end in getattr(self, "inter_character_ranges", [(0, len(encoded))]):
        add(start, end, base)
    if word_spacing:
        for match in re.finditer(" |\u00a0".encode(), encoded):
            add(match.start(), match.end(), base + word_spacing)
    pango.pango_layout_set_attributes(self.layout, attr_list)

"""Measure justified text in a PDF: how far each line falls short of its column's edges.

Used to test `typeset.justify`: every paragraph-inner line of a justified block (any line but
the last of its paragraph) should end within 0.5 pt of the column's right edge.

How lines, blocks and paragraphs are found from the PDF alone (pdfplumber):
- a line is the upright characters of one page sharing a baseline (their `bottom`, ±1 pt);
  lines side by side (a gap wider than 3 em between them) are split, for multi-column pages;
- a block is a run of lines of one font size, one under the other, each at most 3 font sizes
  below the previous one and starting within 3 font sizes of the block's left edge (so an
  indent is allowed; centred captions, table columns, side notes make blocks of their own);
  its edges are the min x0 / max x1 of its lines, so the column's right edge is known when
  one line of the block is full (or pass `right`);
- a line is paragraph-inner when the next line of its block is one line pitch below it (the
  block's most common baseline distance, ±0.5 pt) and does not start indented (its x0 is less
  than 0.5 em from the block's left edge): a paragraph gap or a first-line indent below a line
  makes it the last line of its paragraph. The last line of a column is inner when the next
  page's topmost block at the same left edge and font size starts unindented (the paragraph
  goes on), so pass all the pages of a paragraph split by a page break.
- Limits: a paragraph with no first-line indent and no gap after it merges with the next one,
  and a line ending in a forced break (<br>) looks inner: both are reported though WeasyPrint
  rightly leaves them unjustified. Ragged text (tables, lists, labels) is reported too: filter
  the blocks (by font size, page, position) to the justified text you want to check.
"""

from collections import Counter
from dataclasses import dataclass, field

import pdfplumber


@dataclass
class Line:
    page: int                  # 1-based
    text: str
    x0: float
    x1: float
    baseline: float            # pdfplumber `bottom`, from the top of the page
    size: float                # most common font size of its characters
    inner: bool = False        # not the last line of its paragraph
    short: float = 0.0         # block's right edge − x1 (pt)
    indent: float = 0.0        # x0 − block's left edge (pt)


@dataclass
class Block:
    page: int
    lines: list = field(default_factory=list)
    left: float = 0.0
    right: float = 0.0

    @property
    def text(self):
        return "".join(line.text for line in self.lines)


def _lines(page_number, chars):
    """Group a page's characters into lines by baseline, split at wide horizontal gaps."""
    chars = sorted((c for c in chars if c.get("upright", True)),
                   key=lambda c: (c["bottom"], c["x0"]))
    rows = []
    for char in chars:
        if rows and abs(rows[-1][-1]["bottom"] - char["bottom"]) <= 1:
            rows[-1].append(char)
        else:
            rows.append([char])
    lines = []
    for row in rows:
        row.sort(key=lambda c: c["x0"])
        pieces = [[row[0]]]
        for char in row[1:]:
            if char["x0"] - pieces[-1][-1]["x1"] > 3 * char["size"]:
                pieces.append([char])
            else:
                pieces[-1].append(char)
        for piece in pieces:
            visible = [c for c in piece if c["text"].strip()]
            if not visible:
                continue
            size = Counter(round(c["size"], 2) for c in visible).most_common(1)[0][0]
            lines.append(Line(page_number, "".join(c["text"] for c in piece).strip(),
                              visible[0]["x0"], visible[-1]["x1"],
                              max(c["bottom"] for c in visible), size))
    return lines


def _blocks(page_number, lines, right=None):
    blocks = []
    for line in sorted(lines, key=lambda l: (l.baseline, l.x0)):
        for block in reversed(blocks):
            last = block.lines[-1]
            if (line.size == last.size and 0 < line.baseline - last.baseline <= 3 * line.size
                    and abs(line.x0 - block.left) <= 3 * line.size and line.x0 < block.right):
                block.lines.append(line)
                block.left, block.right = min(block.left, line.x0), max(block.right, line.x1)
                break
        else:
            blocks.append(Block(page_number, [line], line.x0, line.x1))
    for block in blocks:
        block.right = right if right is not None else block.right
        steps = [round(b.baseline - a.baseline, 1) for a, b in zip(block.lines, block.lines[1:])]
        pitch = Counter(steps).most_common(1)[0][0] if steps else None
        for line, below in zip(block.lines, block.lines[1:] + [None]):
            line.short = block.right - line.x1
            line.indent = line.x0 - block.left
            line.inner = (below is not None and abs(below.baseline - line.baseline - pitch) <= 0.5
                          and below.x0 - block.left < 0.5 * below.size)
    return blocks


def measure(pdf_path, pages=None, right=None):
    """The text blocks of a PDF (list of `Block`, each with its `Line`s measured).

    `pages`: 1-based page numbers to read (default: all). For each line, `inner` says whether
    it is paragraph-inner and `short` how far (pt) its right edge is from the block's right edge.
    `right`: the right edge of single-column pages (pt from the page's left), one number or
    {page: number}, when it is known; by default each block's widest line is taken (right when
    a line is full, as inner lines of justified text are; a ragged block may have none).
    """
    blocks = []
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            if pages is None or number in pages:
                edge = right.get(number) if isinstance(right, dict) else right
                blocks += _blocks(number, _lines(number, page.chars), edge)
    _continued(blocks)
    return blocks


def _continued(blocks):
    """Mark the last line of a column inner when the paragraph goes on on the next page: the
    next page's topmost block at the same left edge, in the same font size, starts unindented."""
    def column(block, page):
        return [b for b in blocks if b.page == page and b.lines[0].size == block.lines[0].size
                and abs(b.left - block.left) < 0.5]

    for block in blocks:
        end = block.lines[-1].baseline
        following = column(block, block.page + 1)
        if following and not any(b.lines[0].baseline > end for b in column(block, block.page)):
            first = min(following, key=lambda b: b.lines[0].baseline).lines[0]
            block.lines[-1].inner = first.indent < 0.5 * first.size


def short_lines(blocks, tolerance=0.5):
    """The paragraph-inner lines that end more than `tolerance` pt short of their block's edge."""
    return [line for block in blocks for line in block.lines
            if line.inner and line.short > tolerance]

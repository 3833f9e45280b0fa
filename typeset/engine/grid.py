"""The baseline grid and pages that end at the foot.

The type area is a whole number of body lines (html.design_tokens), so its lines lie at the
page area's foot less whole leadings. Two steps keep the flow on them:

- while laying out (the patch `grid`, on WeasyPrint's `_in_flow_layout`): in a flow container
  (a chapter, a section) each block starts on the next grid line at or below where it would
  have started — so every block's first line, and every line of running text set at the body
  leading, sits on the grid whatever the caption, photo or heading above it measured;
- after laying out (`fill`): a page whose flow goes on overleaf but ends above the foot is
  filled in whole lines — first its photos grow (each by at most `grow` of its height: a
  little more of the photo shown above and below, never a landscape turned portrait), then
  the gaps between its blocks open (at most `spread` lines each, never after a heading).
  Nothing moves to another page, so folios and the contents stay as laid out.
  Before that, photos facing each other across a spread are brought to one height (the page
  whose photos start higher moves them down, in whole lines, when it has the room and they
  are at most `ALIGN_MOST` of the type area apart: a heading's, not an opener's sinkage).
  A page whose flow holds one photo and its caption alone is a plate instead: the photo
  keeps its proportion and the block is set at the optical centre (`PLATE_DROP` of the room
  above it, in whole lines).
"""

import math

from weasyprint.formatting_structure import boxes
from weasyprint.layout.block import collapse_margin
from weasyprint.layout.percent import percentage

ORIGINAL = {}  # WeasyPrint's own _in_flow_layout, kept by patches.install

FLOWS = {"chapter", "section"}   # the containers whose blocks keep to the grid
SLOT = "slot"                    # a photo slot: grows in fill
FIXED_SLOTS = {"shape-page"}     # a slot as tall as the page allows already
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
EPSILON = 0.01                   # px: positions closer than this are the same
# A page of its own, full by design — and the part-end page standing for one (render: the
# next stretch of the chapter opens on such a page).
FULL = {"figure--bleed", "inscription", "closing", "part-end--full"}
PLATES = {"figure", "gallery"}   # blocks that may stand alone on a page as a plate
PLATE_DROP = 0.4                 # a plate's share of the room above it: the optical centre
ALIGN_MOST = 1 / 6                # facing photos aligned when at most this far apart


def layout_backgrounds(page, get_image_from_uri):
    """WeasyPrint's placing of a page's backgrounds; the page keeps how it reads images, so
    `fill` can place them again after moving the page's boxes."""
    page.typeset_images = get_image_from_uri
    return ORIGINAL["layout_backgrounds"](page, get_image_from_uri)


def is_flow(box):
    element = getattr(box, "element", None)
    return element is not None and isinstance(box, boxes.BlockBox) and bool(
        FLOWS & set((element.get("class") or "").split()))


def leading(box):
    """The grid's pitch, in px: the flow container's line height (the body leading)."""
    height = box.style["line_height"]
    if isinstance(height, (int, float)):  # a number: times the font size
        return height * box.style["font_size"]
    return height.value if getattr(height, "unit", None) == "px" else None


def in_flow_layout(context, box, index, child, new_children, page_is_empty, absolute_boxes,
                   fixed_boxes, adjoining_margins, bottom_space, position_y, *rest):
    """WeasyPrint's layout of one block in its container; in a flow container, the space
    before the next block is then rounded up so that block starts on a grid line."""
    result = ORIGINAL["_in_flow_layout"](
        context, box, index, child, new_children, page_is_empty, absolute_boxes, fixed_boxes,
        adjoining_margins, bottom_space, position_y, *rest)
    abort, stop, resume_at, position_y, margins, next_page, new_children, max_lines = result
    if abort or stop or not is_flow(box) or context.page_bottom is None:
        return result
    pitch = leading(box)
    following = _next_in_flow(box, index)
    if not pitch or following is None:
        return result
    start = position_y + collapse_margin([*margins, *_top_margins(following, box)])
    lines = math.floor((context.page_bottom - start) / pitch + EPSILON)
    if lines <= 0:
        return result  # at the foot already: the next block goes overleaf, on the grid
    line = context.page_bottom - lines * pitch
    rest = line - start
    if rest > EPSILON:
        # A block of photos ends on a grid line itself, the nearer one: its photos take the
        # rest or give up what is over (less than half a line: a sliver of each photo), so
        # the gap after it is its margin and the page holds as many photos as without a grid.
        block = new_children[-1] if new_children else None
        change = rest if rest <= pitch / 2 else rest - pitch
        if block is not None and position_y + change <= context.page_bottom - bottom_space \
                and _grow_block(block, change):
            position_y += change
        else:
            position_y += rest
    return abort, stop, resume_at, position_y, margins, next_page, new_children, max_lines


def _grow_block(block, amount):
    """Let the slots of a laid-out block take `amount` px more height, shared between its
    rows of photos (a gallery's); False if it has none."""
    groups = _slot_groups(block, -math.inf, math.inf)
    share = amount / len(groups) if groups else 0
    least = leading(block) or 0  # a slot keeps at least a line's height
    if not groups or min(slot.padding_height() for group in groups.values()
                         for slot in group) + share < least:
        return False
    for foot in sorted(groups, reverse=True):
        for slot in groups[foot]:
            _grow_slot(slot, share)
        _open(block, foot, share, {id(slot) for slot in groups[foot]})
    block.height += amount
    return True


def _next_in_flow(box, index):
    for sibling in box.children[index + 1:]:
        if sibling.is_in_normal_flow() and isinstance(sibling, boxes.BlockLevelBox):
            return sibling
    return None


def _top_margins(child, container):
    """The top margins that collapse at the top of `child`: its own and those of its first
    descendants, through no border or padding (a section's and its title's)."""
    found = []
    width = container.width
    while isinstance(child, boxes.BlockBox):
        margin = child.style["margin_top"]
        found.append(0 if margin == "auto" else percentage(margin, child.style, width))
        if child.style["padding_top"].value or child.style["border_top_width"]:
            break
        inner = [kid for kid in child.children
                 if kid.is_in_normal_flow() and isinstance(kid, boxes.BlockLevelBox)]
        if not inner or len(inner) != len(child.children):
            break
        child = inner[0]
    return found


def fill(pages, grow, spread):
    """Fill each page whose flow goes on overleaf (not a chapter's or section's last, not the
    last page) to the foot, in whole lines: photos grow by at most `grow` (a fraction of their
    height), then gaps between blocks open by at most `spread` lines each."""
    surveys = [_survey(page._page_box) for page in pages]
    flows = [{box.element for box in containers} for containers, _ in surveys]
    full = [is_full for _, is_full in surveys]

    def goes_on(index):  # the flow goes on overleaf: not before a blank page or an opener
        here, overleaf = flows[index], flows[index + 1]
        return bool(here & overleaf) and not overleaf - here

    plates = [plate(containers) for containers, _ in surveys]
    moved = [False] * len(pages)
    hold = [None] * len(pages)  # the top of photos aligned across the spread: kept there
    for index in range(len(pages) - 1):
        left, right = pages[index]._page_box, pages[index + 1]._page_box
        # A plate facing photos takes their height rather than the optical centre (it is
        # not made smaller for it); two plates facing each other keep to the centre.
        if (left.page_type.side == "left" and goes_on(index) and not full[index]
                and not full[index + 1] and (plates[index] is None or plates[index + 1] is None)):
            moved[index], moved[index + 1], tops = _align_spread(
                left, right, surveys[index][0],
                [0 if plates[index + side] is not None else grow for side in (0, 1)])
            if tops is not None:
                hold[index], hold[index + 1] = tops
    for index, page in enumerate(pages):
        page_box = page._page_box
        page_box.typeset_full = full[index]  # read by render (the stretches' part-end pages)
        block = plates[index]
        page_box.typeset_plate = block is not None
        if block is not None:  # a plate: at the optical centre, unless aligned with its facing
            moved[index] |= hold[index] is None and _centre(page_box, surveys[index][0], block)
        else:
            # Before a page of its own (a divider, a closing line) the flow stops here.
            moved[index] |= (index + 1 < len(pages) and goes_on(index) and not full[index + 1]
                             and not full[index]
                             and _fill_page(page_box, surveys[index][0], grow, spread,
                                            hold[index]))
        if moved[index]:
            ORIGINAL["layout_backgrounds"](page_box, page_box.typeset_images)


def _align_spread(left, right, containers, grows):
    """Photos facing each other across a spread start at one height: the page whose first
    row of photos is higher (its facing page has a heading above its photos) moves its
    photos down by the difference, in whole lines — its photos giving up at most its
    `grows` share of their height when its foot lacks the room. Which pages moved, and the
    tops of the two pages' photos when they now start on one line (else None)."""
    tops = [_first_row(box) for box in (left, right)]
    if None in tops:
        return False, False, None
    aligned = tuple(tops) if abs(tops[0] - tops[1]) < 1 else None
    pitch = leading(containers[0]) if containers else None
    if not pitch:
        return False, False, aligned
    lines = round(abs(tops[0] - tops[1]) / pitch)
    if lines == 0 or abs(abs(tops[0] - tops[1]) - lines * pitch) > 1:
        return False, False, aligned  # aligned already, or not a whole number of lines apart
    higher = 0 if tops[0] < tops[1] else 1
    page_box, grow = (left, right)[higher], grows[higher]
    top, bottom = page_box.content_box_y(), page_box.content_box_y() + page_box.height
    end = _content_end(page_box, top, bottom)
    if end is None or lines * pitch > (bottom - top) * ALIGN_MOST + EPSILON:
        return False, False, None  # an opener's sinkage is not mirrored: an empty band facing it
    short = lines - math.floor((bottom - end) / pitch + EPSILON)  # lines the photos give up
    groups = _slot_groups(page_box, top, bottom)
    taken = _share(groups, max(0, short), grow, pitch)
    if sum(taken.values()) < short:
        return False, False, None
    for y in sorted((y for y in taken if taken[y]), reverse=True):
        for slot in groups[y]:
            _grow_slot(slot, -taken[y] * pitch)
        _open(page_box.children[0], y, -taken[y] * pitch, {id(slot) for slot in groups[y]})
    _open(page_box.children[0], tops[higher], lines * pitch, set())
    tops[higher] += lines * pitch
    return higher == 0, higher == 1, tuple(tops) if abs(tops[0] - tops[1]) < 1 else None


def _share(groups, lines, grow, pitch):
    """`lines` handed to rows of photos (`groups`: slots by their foot) one at a time, each
    to the row that has taken least for its height, none past `grow` of a row's height:
    {foot: lines taken} (fewer in all when the rows have no more room)."""
    taken = {y: 0 for y in groups}
    for _ in range(lines):
        room = [y for y, slots in groups.items()
                if (taken[y] + 1) * pitch <= grow * min(s.padding_height() for s in slots)]
        if not room:
            break
        y = min(room, key=lambda y: (taken[y] / min(s.padding_height() for s in groups[y]), y))
        taken[y] += 1
    return taken


def _first_row(page_box):
    """The top of the highest photo slot in the flow of a page, or None."""
    slots = [box.position_y for box in _boxes(page_box, into_placed=False) if _is_slot(box)]
    return min(slots) if slots else None


def plate(containers):
    """The one block of the flow on a page when it is a photo with its caption and nothing
    else (a figure or a one-photo gallery): a plate. None otherwise."""
    leaves = []
    for container in containers:
        for kid in container.children:
            if (kid.is_in_normal_flow() and isinstance(kid, boxes.BlockLevelBox)
                    and not is_flow(kid) and (kid.children or kid.height > EPSILON)):
                leaves.append(kid)
    if len(leaves) != 1:
        return None
    block = leaves[0]
    classes = set((getattr(block, "element", None) is not None
                   and block.element.get("class") or "").split())
    slots = sum(1 for box in _boxes(block) if _is_slot(box))
    return block if classes & PLATES and not classes & FULL and slots == 1 else None


def _centre(page_box, containers, block):
    """Move a plate down to the optical centre: `PLATE_DROP` of the room left below it, in
    whole lines."""
    pitch = leading(containers[0])
    top, bottom = page_box.content_box_y(), page_box.content_box_y() + page_box.height
    end = _content_end(page_box, top, bottom)
    if not pitch or end is None:
        return False
    lines = math.floor((bottom - end) * PLATE_DROP / pitch + EPSILON)
    if lines <= 0:
        return False
    _open(page_box.children[0], block.position_y, lines * pitch, set())
    return True


def _survey(page_box):
    """One walk over a page: its flow containers' boxes, and whether it is full by design (a
    full-bleed photo, an inscription's columns)."""
    containers, is_full = [], False
    for box in _boxes(page_box):
        if is_flow(box):
            containers.append(box)
        is_full = is_full or _full(box)
    return containers, is_full


def _fill_page(page_box, containers, grow, spread, hold=None):
    """Fill one page to the foot (see fill); no gap opens above `hold` (photos aligned with
    the facing page's)."""
    pitch = leading(containers[0])
    top, bottom = page_box.content_box_y(), page_box.content_box_y() + page_box.height
    if not pitch:
        return False
    end = _content_end(page_box, top, bottom)
    if end is None:
        return False
    lines = math.floor((bottom - end) / pitch + EPSILON)
    if lines <= 0:
        return False
    groups = _slot_groups(page_box, top, bottom)
    added = _share(groups, lines, grow, pitch)
    lines -= sum(added.values())
    moves = [(y, added[y] * pitch, groups[y]) for y in groups if added[y]]  # (y, px, slots)
    gaps = [y for y in _gaps(containers, top, bottom) if hold is None or y > hold + EPSILON]
    opened = {y: 0 for y in gaps}
    for _ in range(spread):
        for y in gaps:
            if lines:
                opened[y] += 1
                lines -= 1
    moves += [(y, opened[y] * pitch, ()) for y in gaps if opened[y]]
    # From the foot up; at one height the gap first, so the block whose photos then grow
    # there is not taken for one reaching past the gap.
    for y, amount, slots in sorted(moves, key=lambda move: (-move[0], bool(move[2]))):
        for slot in slots:
            _grow_slot(slot, amount)
        _open(page_box.children[0], y, amount, {id(slot) for slot in slots})
    return bool(moves)


def _full(box):
    element = getattr(box, "element", None)
    classes = set(((element.get("class") or "") if element is not None else "").split())
    return bool(classes & FULL)


def _content_end(page_box, top, bottom):
    """How far down the page area its flow reaches: the lowest line, photo, table or slot."""
    lowest = None
    for box in _boxes(page_box.children[0] if page_box.children else page_box):
        if marks_extent(box):
            if top <= box.position_y < bottom:
                end = box.position_y + box.margin_height()
                lowest = end if lowest is None else max(lowest, end)
    return lowest


def marks_extent(box):
    """Whether a box shows how far down a page its content reaches: a line, a photo, a table,
    a photo slot (with or without its photo)."""
    return isinstance(box, (boxes.LineBox, boxes.ReplacedBox, boxes.TableBox)) or _is_slot(box)


def _is_slot(box):
    element = getattr(box, "element", None)
    return (isinstance(box, boxes.BlockBox) and element is not None
            and SLOT in (element.get("class") or "").split())


def _slot_groups(page_box, top, bottom):
    """The photo slots that may grow, by the height their foot is at (a row's photos grow
    together)."""
    groups = {}
    for box in _boxes(page_box, into_placed=False):
        if not _is_slot(box) or FIXED_SLOTS & set(box.element.get("class").split()):
            continue
        foot = box.position_y + box.margin_height()
        if top <= box.position_y and foot <= bottom + EPSILON:
            key = next((y for y in groups if abs(y - foot) < 1), foot)
            groups.setdefault(key, []).append(box)
    return groups


def _gaps(containers, top, bottom):
    """Where the space between two blocks of a flow container may open: above each block on
    the page after the first, unless the block above it is a heading."""
    found = []
    for container in containers:
        children = [kid for kid in container.children
                    if kid.is_in_normal_flow() and isinstance(kid, boxes.BlockLevelBox)]
        for above, below in zip(children, children[1:]):
            if getattr(above, "element_tag", None) in HEADINGS or is_flow(below):
                continue
            if top < below.position_y < bottom:
                found.append(below.position_y)
    return sorted(set(found))


def _grow_slot(slot, amount):
    slot.padding_top += amount
    for child in slot.children:
        child = getattr(child, "_box", child)
        if child.style["position"] == "absolute":
            child.height += amount


def _open(box, y, amount, grown):
    """Open `amount` px of space at `y`: what starts at or below it moves down, the blocks
    around it grow (a slot grows only when it is one of `grown`)."""
    for child in getattr(box, "children", None) or ():
        inner = getattr(child, "_box", child)
        if inner.position_y >= y - EPSILON or _at_foot(inner):
            child.translate(dy=amount)
        elif id(inner) in grown:
            continue
        elif (isinstance(inner, boxes.BlockContainerBox) and not _is_slot(inner)
              and _around(inner, y, grown)
              and not any(isinstance(kid, boxes.LineBox) for kid in inner.children)):
            inner.height += amount  # a block around the opening: the chapter, a figure, a row
            _open(inner, y, amount, grown)


def _around(box, y, grown):
    """Whether a block reaches below `y`, or ends at `y` with a slot that grows in it."""
    foot = box.border_box_y() + box.border_height()
    return foot > y + EPSILON or (foot > y - EPSILON and grown and any(
        id(inner) in grown for inner in _boxes(box)))


def _at_foot(box):
    """A box placed against its block's foot (position: absolute; bottom: 0 — a caption
    beside its photo): it goes down with the foot when the block grows."""
    return box.is_absolutely_positioned() and box.style["bottom"] != "auto"


def _boxes(box, into_placed=True):
    """A box and all inside it; with `into_placed` False, not what is placed out of the flow
    (a portrait set absolutely beside a testimonial's words)."""
    box = getattr(box, "_box", box)
    yield box
    for child in getattr(box, "children", None) or ():
        if into_placed or not getattr(child, "_box", child).is_absolutely_positioned():
            yield from _boxes(child, into_placed)

"""Stage 3 — render: the book's HTML (html.py) laid out by WeasyPrint (engine), three ways to
the same pages:

- whole: the book in one layout (one core, or a book without a complete folio plan);
- by parts, kept in memory (`watch`: session.parts): each stretch of a chapter between breaks
  to a left-hand page (a section, the pages after a page break: html.pieces) laid out alone,
  then the front matter with the folios the chapters landed on; a part whose HTML, styles,
  photos and first folio are unchanged is taken from the session instead of laid out again;
- in parallel (a book with a complete folio plan, more than one core): the front matter and
  each chapter's runs — cut before each section that opens a left-hand page on its planned
  folio — laid out at the same time, one forked process per core, stretch by stretch as by
  parts, each stretch drawn there in both editions' variants; the stretches are kept in
  `cache_dir` (parts.py) for the next build, so a new process after an edit lays out the
  stretch it touches.

Returns a model.Rendered: the layout, the facts of its pages (engine.facts, what the checks
read) and the manifest — where each chapter and section landed (page and printed folio).
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from . import colour, editions, engine, forks, html, parts as kept, press, screen, typography
from .errors import BuildError
from .model import Entry, Manifest, Part, Rendered


def render(book, session, pad=False, cache_dir=None):
    """Stage 3: lay out the book; the contents' page numbers come from the layout itself.
    With `pad`, the manifest plans the blank pages the binding needs."""
    images = html.image_sources(book)
    pieces, document = None, None
    if session.parts is not None:
        document, warnings, front_pages, pieces, pages = _by_parts(book, session, images)
    elif (laid_out := _in_parallel(book, session, images, cache_dir)) is not None:
        pieces, pages, warnings, front_pages = laid_out
    else:
        document, warnings, front_pages = _whole(book, session, images)
    if document is not None and pieces is None:
        pages = engine.facts.read(document.pages)
    manifest = _manifest(book, pages, front_pages, images)
    if pad:
        manifest.padding = press.pages_to_add(manifest.page_count, book.production)
    manifest.placed = screen.placed_sizes(pages, lambda file: _digest(file, session))
    return Rendered(document, manifest, warnings, pieces, pages)


def _digest(file, session):
    """A placed photo's SHA-256, from the checks of the content stage when it made them."""
    path = Path(file).resolve()
    stat = path.stat()
    known = session.photos.get((path, stat.st_size, stat.st_mtime_ns))
    return known if isinstance(known, str) else hashlib.sha256(path.read_bytes()).hexdigest()


def lay_out(book, session, source, tokens):
    """One part (or the whole) of the book laid out: (document, WeasyPrint's warnings)."""
    return engine.layout(session.engine, source, **html.layout_inputs(book, tokens))


def _whole(book, session, images):
    """The whole book in one layout; the front matter's length is measured first and, should
    the contents run longer with their page numbers in, corrected by a second pass."""
    front_pages = _front_pages(book, session, images)
    for _ in range(2):
        source = html.book_html(book, images)
        document, warnings = lay_out(book, session, source,
                                     html.tokens_css(book, first_page_number=1 - front_pages))
        anchors = engine.facts.anchors(document.pages)
        first = anchors.get(book.chapters[0].id, front_pages) if book.chapters else front_pages
        if first == front_pages:
            return document, warnings, front_pages
        front_pages = first
    raise BuildError(f"the front matter did not settle at {front_pages} pages")


def _front_pages(book, session, images):
    """The front matter's page count, from a layout of the front matter alone (a few pages,
    the contents with stand-in folios), rounded up to even: the first chapter opens on a right
    page."""
    stand_in = {item.id: 0 for item in book.items()}
    source = html.book_html(book, images, front_only=True, folios=stand_in)
    document, _ = lay_out(book, session, source, html.tokens_css(book, first_page_number=1))
    return len(document.pages) + len(document.pages) % 2


def _by_parts(book, session, images):
    """The book laid out part by part, reusing the unchanged parts the session keeps; also
    each part with the number of its pages the book keeps (all but a part-end page). A
    chapter's parts are its stretches (_stretches)."""
    state = kept.layout_state(book, session)
    used, pieces, folios = {}, [], {}
    # After a change of styles (or code, fonts) every part is laid out again: a stretch that
    # did not stand alone in the last build is then joined at once, not tried alone again.
    known = session.joined.get("starts", set()) if session.joined.get("state") != state \
        else set()
    joined = set()
    folio = 1
    sources = html.Parts(book, images, session.html)
    for index, chapter in enumerate(book.chapters):
        end = "right" if index < len(book.chapters) - 1 else None
        for part, keep in _stretches(book, session, sources, chapter, end, folio, state, used,
                                     known, joined):
            for offset, page in enumerate(part.document.pages[:keep]):
                for name in page.anchors:
                    folios.setdefault(name, folio + offset)
            pieces.append((part, keep))
            folio += keep
    # The front matter's part-end page holds stand-ins for the chapters' anchors, so its
    # contents links resolve when it is written alone (the stand-ins go with that page).
    source = sources.front(folios, part_end=bool(book.chapters))
    front = _part(book, session, source, sources.tokens(1), state, images, used)
    pieces.insert(0, (front, len(front.document.pages) - (1 if book.chapters else 0)))
    session.parts.clear()
    session.parts.update(used)  # keep what this build used, nothing older
    session.joined = {"state": state, "starts": joined}
    session.html = sources.used
    pages = [page for part, keep in pieces for page in part.document.pages[:keep]]
    warnings = [message for part, _ in pieces for message in part.warnings]
    facts = []
    for index, (part, keep) in enumerate(pieces):
        if part.facts is None:  # read once per layout: a kept part keeps its facts
            part.facts = engine.facts.read(part.document.pages[:keep], part=index)
        facts += part.facts
    return front.document.copy(pages), warnings, pieces[0][1], pieces, facts


def _stretches(book, session, sources, chapter, end, folio, state, used, known, joined,
               cache_dir=None, stretches=None, full=frozenset(), filled=None):
    """A chapter laid out stretch by stretch (html.pieces), each from the folio the one before
    it ended on: (part, pages kept) for each.

    A stretch that begins after a page break onto the next page stands alone only when the
    one before it ended on a right-hand page — it did when its last page is no blank page its
    part-end made — else the two are laid out again as one. The page after a stretch decides
    whether its last page is filled to the foot (grid.fill: not before a page full by design):
    its part-end page stands for the next stretch's first, which the layout of that stretch
    tells; when it was told wrong, the stretch is laid out again. `end`: how the chapter's
    last part ends ("right", or None: the book's end). `known`: the stretches (chapter id,
    start) to join without trying; `joined` gets those this layout joined. `sources`: the
    parts' HTML (html.Parts); `cache_dir`: where stretches laid out before are kept
    (_in_parallel); `stretches`: some of the chapter's (a run, _runs), else all. `full`: the
    stretches (chapter id, start) whose first page was full by design in the last build, so
    the one before is first laid out for it; `filled` gets those of this layout."""
    stretches = stretches or html.pieces(chapter, book.design["section_side"])

    def lay_out_stretch(piece, part_end, folio, next_full):
        source = sources.html(chapter, piece=piece, part_end=part_end, next_full=next_full)
        part = _part(book, session, source, sources.tokens(folio), state, sources.images,
                     used, cache_dir)
        return part, _shape(part)[0] - (1 if part_end else 0)

    done = []
    current, following = stretches[0], stretches[1:]
    while True:
        if following and (chapter.id, following[0].start) in known:
            joined.add((chapter.id, following[0].start))
            current, following = current.joined(following[0]), following[1:]
            continue
        part_end = "left" if following else end
        hint = bool(following) and (chapter.id, following[0].start) in full
        part, keep = lay_out_stretch(current, part_end, folio, hint)
        if done:
            before = done[-1]
            opens_full = _shape(part)[1]
            if before.next_full != opens_full:
                before.part, _ = lay_out_stretch(before.piece, "left", before.folio, opens_full)
                before.next_full = opens_full
        if following and following[0].rule != "left" and _shape(part)[2][keep - 1]:
            joined.add((chapter.id, following[0].start))
            current, following = current.joined(following[0]), following[1:]
            continue
        done.append(_Stretch(current, part, keep, folio, hint))
        if not following:
            if filled is not None:
                filled.update((chapter.id, after.piece.start)
                              for before, after in zip(done, done[1:]) if before.next_full)
            return [(stretch.part, stretch.keep) for stretch in done]
        folio += keep
        current, following = following[0], following[1:]


@dataclass
class _Stretch:
    """A stretch laid out: its piece of the chapter, its part, the pages the book keeps, its
    first folio, and whether its part-end page stood for a page full by design."""

    piece: object
    part: Part
    keep: int
    folio: int
    next_full: bool = False


def _part(book, session, source, tokens, state, images, used, cache_dir=None):
    """One part's layout, from the session (or `cache_dir`, without its document) when
    nothing it depends on has changed."""
    key = kept.key(state, source, tokens, images)
    if key not in used:
        found = (session.parts or {}).get(key) or kept.read(cache_dir, key)
        used[key] = found if isinstance(found, Part) else \
            Part(*lay_out(book, session, source, tokens))
    return used[key]


def _shape(part):
    """(pages, whether the first is full by design, whether each is blank) of a part."""
    if part.shape is None:
        boxes = [page._page_box for page in part.document.pages]
        part.shape = (len(boxes), bool(boxes[0].typeset_full),
                      tuple(bool(box.page_type.blank) for box in boxes))
    return part.shape


def _in_parallel(book, session, images, cache_dir=None):
    """The parts laid out at the same time, each chapter from its planned first folio, its
    stretches (_stretches) in as many processes as there are cores (forks.run); each process
    also draws its parts in both editions' variants (engine.write_part) and reads their pages'
    facts, since a layout cannot leave the process that made it. The front matter prints the
    planned folios. With `cache_dir`, a part whose source, styles, photos, fonts and code are
    unchanged since the last build is read from there instead: after an edit, a new process
    lays out the stretches the edit touches.

    None — lay the book out whole — when the book has no complete folio plan, there is one
    core, or a chapter did not fill exactly the pages its plan gives it (the whole layout
    then shows where, and preflight reports the drift)."""
    chapters = book.chapters
    items = list(book.items())
    if (forks.jobs() < 2 or len(chapters) < 2 or not hasattr(os, "fork")
            or any(item.planned_folio is None for item in items)):
        return None
    folios = {item.id: item.planned_folio for item in items}
    state = kept.layout_state(book, session)
    # The parts' HTML as the last build made it (kept.read_html), and the front matter's, made
    # here before the forks: they inherit its templates compiled.
    sources = html.Parts(book, images, kept.read_html(cache_dir))
    front_source, front_tokens = sources.front(folios), sources.tokens(1)
    front_key = kept.key(state, front_source, front_tokens, images)
    front = kept.read(cache_dir, front_key)
    runs = {(index, number): run for index, chapter in enumerate(chapters)
            for number, run in enumerate(_runs(book, chapter, index))}
    # As many groups as cores, balanced by the work of their layout: a run's blocks and
    # heads, the front matter's contents entries.
    work = {name: sum(piece.end - piece.start for piece in run[0]) for name, run in runs.items()}
    if not isinstance(front, Part):
        work["front"] = len(items)
    groups = [[] for _ in range(min(forks.jobs(), len(work)))]
    for name in sorted(work, key=lambda name: -work[name]):
        min(groups, key=lambda group: sum(work[n] for n in group)).append(name)
    made, hints, used_sources = {}, kept.read_hints(cache_dir), {}
    for result, used in forks.run({f"group {number}": _laid_out_parts(
            book, session, sources, group, runs, state, cache_dir,
            (front_source, front_tokens, front_key), hints)
            for number, group in enumerate(groups)}).values():
        made.update(result)
        used_sources.update(used)
    kept.keep_html(cache_dir, used_sources)
    if "front" in made:
        [(front, _, _)], _, _ = made["front"]
    front_keep = front.shape[0] - 1
    pieces, pages, warnings, landed = [(front, front_keep)], list(front.facts), \
        list(front.warnings), {}
    keys = [front_key]  # every part this build used, tries included, is kept for the next
    ordered = sorted(runs)
    for at, name in enumerate(ordered):
        (_, folio, _), (laid_out, used, _) = runs[name], made[name]
        keys += used
        for part, keep, _ in laid_out:
            for offset, page in enumerate(part.facts):
                for anchor in page.anchors:
                    landed.setdefault(anchor, folio + offset)
            pieces.append((part, keep))
            pages += part.facts
            warnings += part.warnings
            folio += keep
        if at < len(ordered) - 1:
            following = ordered[at + 1]
            if folio != runs[following][1] or (following[0] == name[0] and
                                               made[following][0][0][0].shape[1]):
                # It did not end where the next run's plan begins, or the next run of its
                # chapter opens on a page full by design (its part-end page stood for one
                # that is not).
                return None
    kept.forget_others(cache_dir, keys)
    kept.keep_hints(cache_dir, {kind: set().union(*(made[name][2][kind] for name in runs))
                                for kind in ("joined", "full")})
    if any(landed.get(name) != folio for name, folio in folios.items()):
        return None  # a section did not land on its planned folio: the contents would lie
    return pieces, pages, warnings, front_keep


def _runs(book, chapter, index):
    """A chapter's stretches in runs that can be laid out apart: cut before each section
    whose head always opens a left-hand page and whose folio the plan gives. Each: (its
    stretches, its first folio, how its last part ends)."""
    stretches = html.pieces(chapter, book.design["section_side"])
    heads = {id(section): section.planned_folio for section in chapter.sections}
    runs = [[[], chapter.planned_folio, "left"]]
    for stretch in stretches:
        opened = [section for section in chapter.sections if stretch.begins(section)]
        if runs[-1][0] and stretch.rule == "left" and opened and \
                heads[id(opened[0])] is not None:
            runs.append([[], heads[id(opened[0])], "left"])
        runs[-1][0].append(stretch)
    runs[-1][2] = "right" if index < len(book.chapters) - 1 else None
    return [tuple(run) for run in runs]


def _laid_out_parts(book, session, sources, names, runs, state, cache_dir, front, hints):
    """A task for forks.run: the parts of the runs `names` (_runs: (chapter index, run
    number); "front": the front matter, `front` its source, tokens and key), their HTML from
    `sources` (html.Parts), each stretch read from `cache_dir` or laid out, drawn in each
    edition, its facts read and kept there; `hints`: the last build's joined stretches and
    those opening full (kept.read_hints). Returns name → ([(part, pages kept, key)], the keys
    of every part used, tries included, this layout's hints), and the HTML used."""
    palettes = {name: colour.palette(book, edition.colours)
                for name, edition in editions.EDITIONS.items()}

    def finished(part, keep, part_key, number):
        """A part laid out here, drawn and read, then kept without its document."""
        if part.document is None:
            return part
        done = Part(None, part.warnings,
                    {name: engine.write_part(part.document, edition.variant, keep,
                                             session.engine, palettes[name])
                     for name, edition in editions.EDITIONS.items()},
                    engine.facts.read(part.document.pages[:keep], part=number), _shape(part))
        kept.keep(cache_dir, part_key, done)
        return done

    def task():
        done = {}
        for name in names:
            if name == "front":
                source, tokens, part_key = front
                part = Part(*lay_out(book, session, source, tokens))
                keep = _shape(part)[0] - 1
                done[name] = ([(finished(part, keep, part_key, 0), keep, part_key)], [part_key],
                              None)
                continue
            chapter = book.chapters[name[0]]
            stretches, folio, end = runs[name]
            for folder in (cache_dir, None):
                used, found = {}, {"joined": set(), "full": set()}
                laid_out = _stretches(book, session, sources, chapter, end, folio, state, used,
                                      hints["joined"], found["joined"], folder, stretches,
                                      hints["full"], found["full"])
                # A stretch kept only as a try (its shape, no drawing) cannot be drawn: in
                # that rare case the run is laid out again without the cache.
                if all(part.document is not None or part.pdfs for part, _ in laid_out):
                    break
            keys = {id(part): part_key for part_key, part in used.items()}
            final = {id(part) for part, _ in laid_out}
            for part_key, part in used.items():  # the tries: what the next build asks of them
                if id(part) not in final and part.document is not None:
                    kept.keep(cache_dir, part_key, Part(None, part.warnings, shape=_shape(part)))
            done[name] = ([(finished(part, keep, keys[id(part)], int(keys[id(part)][:12], 16)),
                            keep, keys[id(part)]) for part, keep in laid_out], list(used),
                          found)
        return done, sources.used
    return task


def _manifest(book, pages, front_pages, images):
    anchors = engine.facts.anchors(pages)
    entries = []

    def add(item, level, title):
        if item.id not in anchors:
            raise BuildError(f"{item.file}:{item.line}: `{item.id}` did not reach the layout")
        page = anchors[item.id]
        entries.append(Entry(item.id, title, level, page, page + 1 - front_pages,
                             item.planned_folio))

    for chapter in book.chapters:
        suffix = book.labels["number_suffix"] if chapter.number else ""
        add(chapter, 1, f"{chapter.number}{suffix}{typography.plain(chapter.title)}")
        for section in chapter.sections:
            add(section, 2, f"{section.number}{typography.plain(section.title)}")
    missing = [path for path, url in images.items() if url is None]
    return Manifest(front_pages, len(pages), entries, missing, anchors.get("colophon"))

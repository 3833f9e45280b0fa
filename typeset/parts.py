"""Laid-out parts kept between builds in `build/.cache/parts` (render, in parallel): each
under a key that holds everything its layout depends on — its HTML, its tokens (with its first
folio), the photos it shows, the stylesheets, the installed font files, WeasyPrint's version
and this package's code — so a part read from the cache is the part a new layout would make.
"""

import hashlib
import json
import pickle
from pathlib import Path

from . import files, html


def layout_state(book, session):
    """What every part's layout and drawing depend on besides its own HTML and tokens: the
    stylesheets, the installed font files book.yaml names, the colours each edition is drawn
    in (the tokens and the output profile), WeasyPrint and this package's code."""
    profile = Path(book.production["output_profile"])
    return "\0".join([files_digest(html.stylesheets(book)), session.code_state(),
                      repr(sorted(book.design["colours"].items())),
                      files_digest([profile]) if profile.is_file() else "",
                      *map(repr, map(session.fonts.files_state,
                                     sorted(set(book.design["fonts"].values()))))])


def key(state, source, tokens, images):
    """A part's key: the layout state, its HTML, its tokens and the photos it shows."""
    return hashlib.sha256("\0".join([state, source, tokens, _photos_state(images, source)])
                          .encode("utf-8")).hexdigest()


def read(cache_dir, part_key):
    if cache_dir is None:
        return None
    try:
        return pickle.loads((Path(cache_dir) / f"{part_key}.part").read_bytes())
    except Exception:  # none yet, or unreadable (an older format, a torn write): lay it out
        return None


def keep(cache_dir, part_key, part):
    if cache_dir is not None:
        files.write_cache(Path(cache_dir) / f"{part_key}.part",
                          pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))


def read_hints(cache_dir):
    """How the last build laid out the chapters' stretches (render._stretches): those joined
    with the one before them, and those whose first page was full by design, as sets of
    (chapter id, start). A hint saves a layout when it still holds; one that no longer does
    costs a layout, never a wrong page (a joined stretch gives the book's pages too)."""
    try:
        data = json.loads((Path(cache_dir) / "hints.json").read_text(encoding="utf-8"))
        return {kind: {(str(chapter), int(start)) for chapter, start in data[kind]}
                for kind in ("joined", "full")}
    except (TypeError, OSError, ValueError, KeyError):  # none yet, or another format
        return {"joined": set(), "full": set()}


def keep_hints(cache_dir, hints):
    if cache_dir is not None:
        files.write_cache(Path(cache_dir) / "hints.json", json.dumps(
            {kind: sorted(found) for kind, found in hints.items()}))


def read_html(cache_dir):
    """The parts' HTML and tokens of the last build (html.Parts' `kept`), so a new process
    renders again only those of what changed (0.3 s of the catalogue's templates)."""
    try:
        found = pickle.loads((Path(cache_dir) / "html.pickle").read_bytes())
        return found if isinstance(found, dict) else {}
    except Exception:  # none yet, or unreadable: render them
        return {}


def keep_html(cache_dir, used):
    if cache_dir is not None:
        files.write_cache(Path(cache_dir) / "html.pickle",
                          pickle.dumps(used, protocol=pickle.HIGHEST_PROTOCOL))


def forget_others(cache_dir, keys):
    """Keep the parts of this build only (the cache holds one book's worth)."""
    if cache_dir is not None:
        files.forget_others(cache_dir, "*.part", {f"{part_key}.part" for part_key in keys})


def files_digest(paths):
    """What the files hold, in a line: a key part for the caches of laid-out documents."""
    return "".join(hashlib.sha256(path.read_bytes()).hexdigest() for path in paths)


def _photos_state(images, source):
    """Size and time of each photo file the part shows: a replaced photo lays it out again."""
    state = []
    for url in sorted({url for url in images.values() if url and url in source}):
        stat = files.from_uri(url).stat()
        state.append(f"{url}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(state)

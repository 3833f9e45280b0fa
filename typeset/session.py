"""A build session: what lives from one build to the next in one process.

`build()` makes one for a single build; `watch` keeps one for its whole loop, so that an edit
lays out only what it changed. Nothing else in typeset keeps state between builds: a test that
wants a fresh process's behaviour makes a new Session. What is kept between processes lives in
the output folder's `.cache` (files.py), keyed so that a cache never changes the output.
"""

import gc
import hashlib
from dataclasses import dataclass, field

from . import CODE
from .engine import State, version
from .fonts import Installed


@dataclass
class Session:
    engine: State = field(default_factory=State)  # WeasyPrint's fonts, faces, programs
    fonts: Installed = field(default_factory=Installed)  # fontconfig lookups, character maps
    photos: dict = field(default_factory=dict)     # photo checks by (file, size, mtime)
    documents: dict = field(default_factory=dict)  # the ISBN stamp and the cover, by key
    parts: dict | None = None  # laid-out parts by key, when kept in memory (watch)
    html: dict = field(default_factory=dict)  # with them, their HTML by what it reads
    # Render by parts: the stretches of chapters laid out with the one before them in the
    # last build (chapter id, start), under the layout state they were found in.
    joined: dict = field(default_factory=dict)
    # Told of each layout before the editions are written: laid_out(book, rendered,
    # session) — the live proof draws the changed spreads from it (live.py).
    laid_out: object = None
    _code: str | None = None

    def code_state(self):
        """WeasyPrint's version and this package's code: a key part of the kept layouts."""
        if self._code is None:
            digest = "".join(hashlib.sha256(path.read_bytes()).hexdigest()
                             for path in sorted(CODE.rglob("*.py")))
            self._code = version + digest
        return self._code

    def settle(self):
        """Between builds, while the process waits for the next save (watch): collect the
        last build's garbage now and freeze what survives — the kept parts' millions of
        objects — so that no full collection walks them in the middle of the next build
        (one cost 0.5–1 s of a caption edit)."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def remember_document(self, key, make):
        """A small document (stamp, cover) made once per key; the eight newest are kept."""
        if key not in self.documents:
            if len(self.documents) >= 8:
                self.documents.clear()
            self.documents[key] = make()
        return self.documents[key]

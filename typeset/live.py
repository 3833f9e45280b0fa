"""The live proof: the book as spreads in a browser, the changed spread shown after each save.

`make proof` builds, then serves a page on the loopback interface only (127.0.0.1, a free port
printed on start) and rebuilds after every change (watch.py). As soon as the book is laid out,
before the editions are written, the spreads holding pages whose layout changed are drawn from
the layout (`early`); after the build, from the finished print edition (`after_build`). Each
time the page — which asks for the state a few times a second — shows them, marked and
scrolled into view. A failed build
shows its one-line message (file:line and the fix) above the last good spreads.

Only three things are served: the page (templates/proof.html), the state (`/state.json`) and
the spread images in build/proofs/; any other path, `../` included, is a 404.
"""

import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import TEMPLATES, assemble, changes, colour, editions, embed, engine, proofs, watch

HOST = "127.0.0.1"  # never another interface
PAGE = TEMPLATES / "proof.html"


class State:
    """What the page shows: the spreads, those changed by the last build, the last error."""

    def __init__(self):
        self.lock = threading.Lock()
        self.version = 0
        self.spreads = []
        self.changed = []
        self.error = None
        self.line = ""
        self.early = False   # the changed spreads are drawn from the layout, editions to follow
        self.shown = None    # when the changed spreads were last shown (time.perf_counter)

    def update(self, **values):
        with self.lock:
            for name, value in values.items():
                setattr(self, name, value)
            if values.get("changed"):
                self.shown = time.perf_counter()
            self.version += 1

    def as_json(self):
        with self.lock:
            return json.dumps({"version": self.version, "spreads": self.spreads,
                               "changed": self.changed, "error": self.error,
                               "line": self.line, "early": self.early},
                              ensure_ascii=False).encode()


def server(folder, state, port=0):
    """An HTTP server on 127.0.0.1 (`port` 0: a free one) serving the proof page, the state and
    the PNGs of `folder` (build/proofs), nothing else. Run it with serve_forever()."""
    folder = Path(folder).resolve()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = unquote(urlsplit(self.path).path)
            if path in ("/", "/index.html"):
                return self._send(PAGE.read_bytes(), "text/html; charset=utf-8")
            if path == "/state.json":
                return self._send(state.as_json(), "application/json; charset=utf-8")
            if path.startswith("/proofs/"):
                file = (folder / path[len("/proofs/"):]).resolve()
                if file.is_relative_to(folder) and file.suffix == ".png" and file.is_file():
                    return self._send(file.read_bytes(), "image/png")
            self.send_error(HTTPStatus.NOT_FOUND)

        def _send(self, data, kind):
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet: the terminal shows one line per build
            pass

    return ThreadingHTTPServer((HOST, port), Handler)


def after_build(out, state):
    """What watch calls after each build: render the spreads that changed, or keep the last
    ones and show the error."""
    proofs_dir = Path(out) / "proofs"

    def done(result, error, line):
        if error is not None:
            state.update(error=str(error), line=line, changed=[])
            return
        started = time.perf_counter()
        cache = Path(out) / ".cache"
        previous, current = (cache / name / result.paths["print"].name
                             for name in ("previous", "finished"))
        try:
            pdf = proofs.drawable(current if current.is_file() else result.paths["print"],
                                  cache / "proof" / result.paths["print"].name,
                                  embed.sources(result.book, cache))
            if not state.spreads or not previous.is_file():  # the first build: every spread
                proofs.spreads(pdf, proofs_dir, result.manifest)
                changed = []
            else:
                pages = changes.changed_pages(previous, current)
                numbers = proofs.spreads_holding(
                    pages, result.manifest.page_count + result.manifest.padding)
                written = proofs.spreads(pdf, proofs_dir, result.manifest, only=numbers,
                                         changed=pages) if numbers else []
                changed = sorted(path.name for path in written)
        except OSError as failure:
            state.update(error=f"the proofs could not be drawn: {failure}", line=line)
            return
        spreads = sorted(path.name for path in proofs_dir.glob("spreads-*.png"))
        state.update(spreads=spreads, changed=changed, error=None, early=False,
                     line=f"{line}; proof in {time.perf_counter() - started:.1f} s")

    return done


def early(out, state, limit=12):
    """What a build calls once it has laid the book out (Session.laid_out), before it writes
    the editions: the pages whose layout changed since the last build (facts.Page.digest) are
    drawn at once — the spreads holding them, in the print edition's colours, its photos as
    small drafts (embed.drafts) — and shown marked, so the editor sees the edit while the editions
    are finished. More than `limit` changed pages (a reflow, a style edit) wait for them."""
    proofs_dir = Path(out) / "proofs"
    last = {}

    def laid_out(book, rendered, session):
        digests = [page.digest for page in rendered.pages]
        before, last["digests"] = last.get("digests"), digests
        if (before is None or not state.spreads or rendered.document is None
                or rendered.manifest.padding):  # blank pages the press file adds: wait for it
            return
        changed = [index for index, digest in enumerate(digests)
                   if index >= len(before) or before[index] != digest]
        if not changed or len(changed) > limit:
            return
        manifest = rendered.manifest
        count = manifest.page_count + manifest.padding
        numbers = proofs.spreads_holding(changed, count)
        layout = proofs.spread_layout(count)
        wanted = {index for number in numbers for index in layout[number - 1]
                  if index is not None and index < len(rendered.pages)}
        data, pages = _print_pages(book, rendered, wanted, session)
        pdf = Path(out) / ".cache" / "early.pdf"
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(embed.drafts(data, embed.sources(book, pdf.parent)))
        written = proofs.spreads(pdf, proofs_dir, manifest, only=numbers, changed=changed,
                                 pages=pages)
        state.update(changed=sorted(path.name for path in written), error=None,
                     line="laid out: the changed spreads; the editions follow", early=True)

    return laid_out


def _print_pages(book, rendered, wanted, session):
    """The pages `wanted` (0-based indexes in the book) as a PDF in the print edition's variant
    and colours, and their indexes in order. Written as a part is (engine.write_part: no font
    programs, the slow half of a write) and given the programs the last build subset, which
    hold every glyph it used (engine.covering): a spread costs its drawing only."""
    edition = editions.EDITIONS["print"]
    pages = sorted(wanted)
    document = rendered.document.copy([rendered.document.pages[index] for index in pages])
    part = engine.write_part(document, edition.variant, len(pages), session.engine,
                             colour.palette(book, edition.colours), compress=False)
    return assemble.join([part], engine.covering(part, session.engine), compress=False), pages


def proof(catalogue, out, port=0, print_line=print, stop=None, ready=None):
    """Serve the live proof and rebuild on every change until interrupted (or `stop` is
    set). `ready(url)` is called once the server listens."""
    state = State()
    out = Path(out)
    (out / "proofs").mkdir(parents=True, exist_ok=True)
    httpd = server(out / "proofs", state, port)
    url = f"http://{HOST}:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    print_line(f"proof: {url}  (Ctrl-C stops)")
    if ready:
        ready(url)
    try:
        watch.watch(catalogue, out, print_line=print_line, stop=stop,
                    after=after_build(out, state), laid_out=early(out, state))
    finally:
        httpd.shutdown()
        httpd.server_close()

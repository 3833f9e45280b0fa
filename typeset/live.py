"""The live proof: the book as spreads in a browser, the changed spread shown after each save.

`make proof` builds, then serves a page on the loopback interface only (127.0.0.1, a free port
printed on start) and rebuilds after every change (watch.py). After each build the spreads that
hold changed pages are rendered again with pypdfium2 (proofs.py) and the page — which asks for
the state a few times a second — shows them, marked and scrolled into view. A failed build
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

from . import TEMPLATES, changes, proofs, watch

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

    def update(self, **values):
        with self.lock:
            for name, value in values.items():
                setattr(self, name, value)
            self.version += 1

    def as_json(self):
        with self.lock:
            return json.dumps({"version": self.version, "spreads": self.spreads,
                               "changed": self.changed, "error": self.error,
                               "line": self.line}, ensure_ascii=False).encode()


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
        pdf = result.paths["print"]
        cache = Path(out) / ".cache"
        previous, current = cache / "previous" / pdf.name, cache / "finished" / pdf.name
        try:
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
        state.update(spreads=spreads, changed=changed, error=None,
                     line=f"{line}; proof in {time.perf_counter() - started:.1f} s")

    return done


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
                    after=after_build(out, state))
    finally:
        httpd.shutdown()
        httpd.server_close()

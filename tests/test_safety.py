"""Hostile input and failures: nothing is read from outside the book, nothing from the network,
content is never markup, an interrupted or concurrent build never damages the last good PDFs,
and random books and random damage to real chapter files end in a PDF or one clean error."""

import io
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from typeset import content, fonts, html, kinds, lock, render
from typeset.session import Session
from typeset.errors import BuildError, ContentError
from typeset.fetch import ContainedFetcher

PROJECT = Path(__file__).resolve().parent.parent
CATALOGUE = PROJECT / "catalogue"


@pytest.fixture
def small_book(tmp_path):
    """The small book with a cover of its own, as the catalogue has: four PDFs to keep."""
    from conftest import SmallBook
    book = SmallBook(tmp_path)
    book.book["production"] = {"cover": "separate"}
    book.write_book()
    return book


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach the network fails the test (and is recorded)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"a network connection was attempted: {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: refuse(None, *args))
    return attempts


# ------------------------------------------------------------------ containment: the fetcher

@pytest.fixture
def rooms(tmp_path):
    """A book folder with a photo, and a secret file beside it (outside the book)."""
    book = tmp_path / "book"
    (book / "images").mkdir(parents=True)
    (book / "images" / "photo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (tmp_path / "secret.txt").write_text("secret")
    return book, tmp_path / "secret.txt"


@pytest.mark.parametrize("url", ["http://example.com/photo.jpg", "https://example.com/a.css",
                                 "ftp://example.com/a.png", "//example.com/font.woff",
                                 "gopher://example.com/"])
def test_network_urls_are_refused_without_a_connection(url, rooms, no_network):
    book, _ = rooms
    fetcher = ContainedFetcher([book])
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert fetcher.refused and not no_network


def test_files_outside_the_book_are_refused(rooms):
    book, secret = rooms
    fetcher = ContainedFetcher([book])
    outside = [secret.as_uri(), "file:///etc/passwd",
               (book / "images" / ".." / ".." / "secret.txt").as_uri().replace(
                   "/book/images/../../", "/book/images/%2e%2e/%2e%2e/"),
               f"file://{book}/images/../../secret.txt",
               f"file://otherhost{book}/images/photo.svg"]
    for url in outside:
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert len(fetcher.refused) == len(outside)
    assert all("secret" not in reason.split(": ", 1)[1] for reason in fetcher.refused)


def test_a_link_pointing_out_of_the_book_is_refused(rooms):
    book, secret = rooms
    (book / "images" / "innocent.jpg").symlink_to(secret)
    (book / "images" / "folder").symlink_to(secret.parent)
    fetcher = ContainedFetcher([book])
    for name in ("images/innocent.jpg", "images/folder/secret.txt"):
        with pytest.raises(ValueError, match="outside the book's folders"):
            fetcher.fetch((book / name).as_uri())


def test_files_inside_the_book_and_data_urls_are_served(rooms):
    book, _ = rooms
    fetcher = ContainedFetcher([book])
    response = fetcher.fetch((book / "images" / "photo.svg").as_uri())
    assert b"<svg" in response.read()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    assert not fetcher.refused


def test_a_pipe_is_refused_not_read(rooms):
    """Reading a FIFO would wait for a writer for ever: it is refused before it is opened."""
    book, _ = rooms
    pipe = book / "images" / "photo.jpg"
    os.mkfifo(pipe)
    outcome = queue.Queue()

    def fetch():
        try:
            ContainedFetcher([book]).fetch(pipe.as_uri())
            outcome.put("served")
        except ValueError as error:
            outcome.put(str(error))

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():  # it is reading the pipe: unblock it, then fail
        with open(pipe, "wb"):
            pass
    assert "not a regular file" in outcome.get(timeout=20)


def test_render_refuses_what_the_html_asks_from_outside(small_book, no_network, tmp_path):
    """Whatever reaches WeasyPrint, its fetcher is the only way out: network, absolute paths,
    ../ escapes and links out all end the render with BuildError "refused to read"."""
    book = content.load(small_book.catalogue)
    secret = tmp_path / "secret.png"
    Image.new("RGB", (4, 4)).save(secret)
    (small_book.images / "link.png").symlink_to(secret)
    tokens = html.tokens_css(book, first_page_number=1)
    hostile = {
        "network image": '<img src="http://example.com/pixel.png">',
        "network stylesheet": '<link rel="stylesheet" href="https://example.com/a.css">',
        "network font": '<style>@font-face { font-family: X; src: url(https://example.com/'
                        'x.woff) } p { font-family: X }</style><p>文字</p>',
        "absolute path": f'<img src="file://{secret}">',
        "escape": '<img src="templates/../../../../../../../../etc/hostname">',
        "link out": f'<img src="{(small_book.images / "link.png").as_uri()}">',
    }
    for name, source in hostile.items():
        with pytest.raises(BuildError, match="^refused to read: ") as caught:
            render.lay_out(book, Session(), f"<html><body>{source}</body></html>", tokens)
        assert "\n" not in str(caught.value), name
    assert not no_network


# ------------------------------------------------------------------ content is text, not markup

HOSTILE_TEXT = '<script>alert(1)</script>'
HOSTILE_CAPTION = '"><img src="http://example.com/x.png"><link rel=stylesheet href=//example.com/a>'


def test_content_is_escaped_never_markup(small_book, no_network):
    small_book.write("one.yaml", f"""
        id: one
        number: 一
        title: 第一章 <b>粗</b>
        blocks:
          - paragraph: '{HOSTILE_TEXT}'
          - heading: '{{{{ 7 * 7 }}}} {{% raw %}}'
          - figure:
              image: images/one/photo.jpg
              caption: '{HOSTILE_CAPTION}'
        """)
    book = content.load(small_book.catalogue)
    source = html.book_html(book, html.image_sources(book))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "<script" not in source and "<b>" not in source
    assert 'src="http://example.com' not in source and "<link rel=stylesheet" not in source
    result = small_book.build()
    text = "".join(page.extract_text() for page in PdfReader(result.paths["screen"]).pages)
    squeezed = "".join(text.split())
    assert "<script>alert(1)</script>" in squeezed
    assert "{{7*7}}{%raw%}" in squeezed  # a template in the content is text too
    assert not no_network


# ------------------------------------------------------------------ Ctrl-C and concurrent builds

def _interruptible():
    """In the child, before it starts: Ctrl-C as a terminal gives it, even when the tests run
    where SIGINT is ignored (a background job, some CI runners), which the child inherits."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _environment():
    return {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1609459200"),
            "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(PROJECT)}


class Running:
    """A subprocess whose output lines arrive in a queue, read as they come."""

    def __init__(self, args):
        self.process = subprocess.Popen(args, cwd=PROJECT, env=_environment(), text=True,
                                        preexec_fn=_interruptible,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.output = {"stdout": [], "stderr": []}
        for name in ("stdout", "stderr"):
            threading.Thread(target=self._read, args=(name,), daemon=True).start()

    def _read(self, name):
        for line in getattr(self.process, name):
            self.output[name].append(line)
            self.lines.put((name, line))

    def wait_for(self, text, timeout=120):
        """Wait until a line containing `text` is printed; False if the process ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                _, line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    return False
                continue
            if text in line:
                return True
        raise AssertionError(f"no line with {text!r} within {timeout} s: {self.output}")

    def finish(self, timeout=180):
        code = self.process.wait(timeout)
        time.sleep(0.1)  # let the readers drain the pipes
        return code, "".join(self.output["stdout"]), "".join(self.output["stderr"])


def build_command(small_book):
    return [sys.executable, "-m", "typeset", "build", "--catalogue", str(small_book.catalogue),
            "--out", str(small_book.out), "--pad"]


def outputs(out):
    return {path.name: path.read_bytes() for path in sorted(out.glob("*.pdf"))}


def temporaries(out):
    return [path for path in out.rglob("*") if path.name.endswith(".tmp")]


def previous_build(small_book):
    """A good build, then changed content: a finished new build would differ."""
    small_book.build()
    before = outputs(small_book.out)
    assert len(before) == 4
    small_book.write("two.yaml", """
        id: two
        number: 二
        title: 第二章
        blocks:
          - paragraph: 改過的文字，新的版本。
        sections:
          - id: two-a
            number: （一）
            title: 第一節
            blocks:
              - paragraph: 第一節的文字。
        """)
    return before


def test_ctrl_c_during_the_postprocess_keeps_the_previous_pdfs(small_book):
    before = previous_build(small_book)
    running = Running(build_command(small_book))
    assert running.wait_for("[4/6] preflight"), running.output  # stage 5 has begun
    running.process.send_signal(signal.SIGINT)
    code, stdout, _ = running.finish()
    assert code != 0 and "[5/6]" not in stdout
    assert outputs(small_book.out) == before
    assert temporaries(small_book.out) == []


# A build whose Ctrl-C arrives at a chosen moment of the publishing: `hook` is where.
INTERRUPTED_BUILD = r"""
import os, signal, sys
from pathlib import Path
from typeset import cli
catalogue, out, hook = sys.argv[1:]
out = Path(out).resolve()

def interrupt():
    os.kill(os.getpid(), signal.SIGINT)

if hook == "write":  # while the second edition's temporary file is being written
    import tempfile
    mkstemp, seen = tempfile.mkstemp, []
    def hooked_mkstemp(*args, **kwargs):
        handle, name = mkstemp(*args, **kwargs)
        if Path(name).parent == out and name.endswith(".tmp"):
            seen.append(name)
            if len(seen) == 2:
                interrupt()
        return handle, name
    tempfile.mkstemp = hooked_mkstemp
elif hook == "rename":  # after the first edition was renamed into place
    replace = os.replace
    def hooked_replace(source, target):
        replace(source, target)
        if Path(target).parent == out and str(target).endswith(".pdf"):
            interrupt()
    os.replace = hooked_replace
sys.exit(cli.main(["build", "--catalogue", catalogue, "--out", str(out), "--pad"]))
"""


def interrupted_build(small_book, hook):
    return subprocess.run([sys.executable, "-c", INTERRUPTED_BUILD, str(small_book.catalogue),
                           str(small_book.out), hook], cwd=PROJECT, env=_environment(),
                          capture_output=True, text=True, timeout=180,
                          preexec_fn=_interruptible)


def test_ctrl_c_while_writing_the_pdfs_keeps_the_previous_ones(small_book):
    before = previous_build(small_book)
    run = interrupted_build(small_book, "write")
    assert run.returncode != 0 and "KeyboardInterrupt" in run.stderr
    assert outputs(small_book.out) == before
    assert temporaries(small_book.out) == []


def test_ctrl_c_between_the_renames_keeps_a_consistent_set(small_book, tmp_path):
    """Ctrl-C after the first edition was renamed into place: it is held until the last one
    is, so the folder holds the whole new build (never old and new side by side)."""
    previous_build(small_book)
    run = interrupted_build(small_book, "rename")
    assert run.returncode != 0 and "KeyboardInterrupt" in run.stderr
    uninterrupted = tmp_path / "uninterrupted"
    finished = subprocess.run(build_command(small_book)[:-3] + ["--out", str(uninterrupted),
                                                                "--pad"],
                              cwd=PROJECT, env=_environment(), capture_output=True, text=True,
                              timeout=180)
    assert finished.returncode == 0, finished.stderr
    assert outputs(small_book.out) == outputs(uninterrupted)
    assert temporaries(small_book.out) == []


def valid_pdf(path):
    check = shutil.which("qpdf")
    if check:
        run = subprocess.run([check, "--check", str(path)], capture_output=True, text=True)
        return run.returncode == 0  # 3: warnings only, which qpdf reports as not clean
    return len(PdfReader(path).pages) > 0


def test_two_builds_of_one_folder_wait_for_each_other(small_book):
    """Two builds started together on one output folder: each waits for the lock (one line),
    both finish, and the PDFs are whole."""
    with lock.exclusive(small_book.out):  # hold the folder until both are waiting
        builds = [Running(build_command(small_book)) for _ in range(2)]
        for running in builds:
            assert running.wait_for("waiting for another build of"), running.output
    results = [running.finish() for running in builds]
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert stderr.count("waiting for another build of") <= 1
        assert "[6/6] report" in stdout
    pdfs = sorted(small_book.out.glob("*.pdf"))
    assert len(pdfs) == 4 and all(valid_pdf(path) for path in pdfs)
    assert temporaries(small_book.out) == []


def test_two_builds_started_at_once_both_finish(small_book):
    builds = [Running(build_command(small_book)) for _ in range(2)]
    results = [running.finish() for running in builds]
    assert [code for code, _, _ in results] == [0, 0], results
    pdfs = sorted(small_book.out.glob("*.pdf"))
    assert len(pdfs) == 4 and all(valid_pdf(path) for path in pdfs)
    assert temporaries(small_book.out) == []


def test_the_lock_says_so_and_gives_up_after_its_timeout(tmp_path):
    out = tmp_path / "build"
    err = io.StringIO()
    with lock.exclusive(out):
        start = time.monotonic()
        with pytest.raises(BuildError, match="another build of .* has held it"):
            with lock.exclusive(out, timeout=0.5, stderr=err):
                pass
        assert time.monotonic() - start >= 0.5
    assert err.getvalue() == f"waiting for another build of {out}…\n"
    with lock.exclusive(out, timeout=0):  # released: taken at once, without a word
        pass


def test_the_lock_is_released_by_a_failed_build_and_removes_leftovers(small_book):
    (small_book.out / ".cache" / "parts").mkdir(parents=True)
    leftovers = [small_book.out / ".small-print.abc123.tmp",
                 small_book.out / ".cache" / ".small-manifest.json.xyz.tmp",
                 small_book.out / ".cache" / "parts" / ".0123abcd.part.q9.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a PDF")
    small_book.write("one.yaml", "id: one\ntitle: 第一章\nblocks:\n  - paragrap: 文字\n")
    with pytest.raises(ContentError):
        small_book.build()
    assert not any(path.exists() for path in leftovers)
    with lock.exclusive(small_book.out, timeout=0):
        pass


# ------------------------------------------------------------------ property-based: fuzzing

FUZZ = int(os.environ.get("FUZZ_EXAMPLES", 0))  # FUZZ_EXAMPLES=500: a longer, random search
FUZZ_SETTINGS = dict(deadline=None, database=None, derandomize=not FUZZ,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CASE_SECONDS = 60  # generous: a case that takes this long is a hang, not a slow machine

TOKENS = [":", ": ", "- ", "-", "[", "]", "{", "}", ",", "&a ", "*a", "&a [*a]", "!!binary ",
          "!!python/name:os.system", "'", '"', "#", "\t", "  ", "~", "null", "true", "0", "-1",
          "1e400", "2018年13月1日", "2019年2月30日", "images/../../etc/passwd.jpg",
          "images/x.gif", "<script>", "\\x07", "\x07", "\u202e", "𓀀", "? ", "%", "@", "`",
          "---", "...", "|", ">", "<<: *a", "{{ 7*7 }}", "lang: en", "paragrap:", "captoin:",
          "sections:", "blocks:", "id: one", "rowspan: 0", "columns: 9"]

mutation = st.one_of(
    st.tuples(st.just("delete line"), st.integers(0, 10_000)),
    st.tuples(st.just("duplicate line"), st.integers(0, 10_000)),
    st.tuples(st.just("swap lines"), st.integers(0, 10_000), st.integers(0, 10_000)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 200),
              st.sampled_from(TOKENS)),
    st.tuples(st.just("replace value"), st.integers(0, 10_000), st.sampled_from(TOKENS)),
    st.tuples(st.just("indent"), st.integers(0, 10_000), st.integers(-4, 4)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("character"), st.floats(0, 1), st.characters()),
)


def mutate(text, change):
    lines = text.split("\n")
    kind, *args = change
    at = args[0] % len(lines) if isinstance(args[0], int) else 0
    if kind == "delete line":
        del lines[at]
    elif kind == "duplicate line":
        lines.insert(at, lines[at])
    elif kind == "swap lines":
        other = args[1] % len(lines)
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == "insert":
        column = args[1] % (len(lines[at]) + 1)
        lines[at] = lines[at][:column] + args[2] + lines[at][column:]
    elif kind == "replace value":
        key, colon, _ = lines[at].partition(": ")
        lines[at] = f"{key}: {args[1]}" if colon else args[1]
    elif kind == "indent":
        lines[at] = " " * max(0, args[1]) + lines[at][max(0, -args[1]):]
    elif kind == "truncate":
        return text[:int(len(text) * args[0])]
    elif kind == "character":
        position = int(len(text) * args[0])
        return text[:position] + args[1] + text[position + 1:]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def catalogue_copy(tmp_path_factory):
    """The real catalogue and its images, copied: the fuzzer damages the copy."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(CATALOGUE, root / "catalogue")
    shutil.copytree(PROJECT / "images", root / "images")
    return root / "catalogue"


def one_clean_line(error):
    message = str(error)
    assert "\n" not in message and message.strip(), repr(message)
    if isinstance(error, ContentError):
        assert error.file is not None and " — " in message, message
    return message


YAML_FILES = sorted(path.name for path in CATALOGUE.glob("*.yaml"))


@settings(max_examples=FUZZ or 25, **FUZZ_SETTINGS)
@given(name=st.sampled_from(YAML_FILES), changes=st.lists(mutation, min_size=1, max_size=3))
def test_damaged_real_files_load_or_fail_cleanly(catalogue_copy, name, changes):
    """Random damage to the real catalogue's files: the content stage (load and font check)
    ends in a Book or one ContentError, never another exception, and quickly."""
    path = catalogue_copy / name
    original = path.read_bytes()
    text = original.decode("utf-8")
    for change in changes:
        text = mutate(text, change)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    start = time.perf_counter()
    try:
        fonts.check_coverage(content.load(catalogue_copy), installed=INSTALLED)
    except ContentError as error:
        one_clean_line(error)
    finally:
        path.write_bytes(original)
    assert time.perf_counter() - start < CASE_SECONDS


# Tiny books of the content model's shape, built whole.

HAN = "貧困是人類社會的頑疾澳門從江幫扶教育學校產業消費勞務健康住房旅遊協議簽署展覽"
ALPHABET = HAN + "0123456789abcXYZ，。、「」（）：；！？—…<>&\"'{}%# "
words = st.text(st.sampled_from(ALPHABET), min_size=1, max_size=40).filter(str.strip)
dates = st.builds(lambda y, m, d: f"{y}年{m}月{d}日", st.integers(2015, 2021),
                  st.integers(1, 12), st.integers(1, 28))


def photos(chapter):
    return st.builds(lambda name, kind: f"images/{chapter}/{name}.{kind}",
                     st.sampled_from(["a", "b", "c"]), st.sampled_from(["jpg", "png", "svg"]))


def blocks(chapter):
    photo = photos(chapter)
    cell = st.one_of(words, st.integers(0, 99), st.lists(words, min_size=1, max_size=2))
    return st.one_of(
        st.builds(lambda t: {"paragraph": t}, words),
        st.builds(lambda t: {"heading": t}, words),
        st.builds(lambda t: {"lead": t}, words),
        st.builds(lambda i, c, size, shape: {"figure": {"image": i, "caption": c, "size": size,
                                                         "shape": shape}},
                  photo, words, st.sampled_from(kinds.SIZES), st.sampled_from(kinds.SHAPES)),
        st.builds(lambda ps, n: {"gallery": {"photos": [{"image": p} for p in ps],
                                             "columns": n}},
                  st.lists(photo, min_size=1, max_size=4), st.sampled_from([1, 2, 3, 4])),
        st.builds(lambda n, rows: {"table": {"columns": [f"欄{i}" for i in range(n)],
                                             "rows": [row[:n] for row in rows]}},
                  st.integers(1, 4), st.lists(st.lists(cell, min_size=4, max_size=4),
                                              min_size=1, max_size=4)),
        st.builds(lambda t, n: {"testimonial": {"text": t, "name": n}},
                  st.lists(words, min_size=1, max_size=2), words),
        st.builds(lambda b, s: {"letter": {"body": b, "salutation": s}},
                  st.lists(words, min_size=1, max_size=3), words),
        st.builds(lambda ls, a: {"inscription": {"lines": ls, "author": a}},
                  st.lists(st.text(st.sampled_from(HAN), min_size=1, max_size=6),
                           min_size=1, max_size=3), words),
        st.builds(lambda d, s, h: {"clipping": {"date": d, "source": s, "headline": h}},
                  dates, words, words),
        st.builds(lambda t, d, s: {"video": {"title": t, "date": d, "source": s}},
                  words, dates, words),
        st.builds(lambda t, n, x: {"ordersheet": {"title": t, "products": [{"name": n,
                                                                              "text": x}]}},
                  words, words, words),
        st.builds(lambda side: {"pagebreak": {"side": side}},
                  st.sampled_from(["page", "left", "right"])),
    )


def chapters():
    return st.lists(st.tuples(st.sampled_from("一二三"), words), min_size=1, max_size=2).flatmap(
        lambda heads: st.tuples(*[st.lists(blocks(f"c{i}"), min_size=1, max_size=4)
                                  for i in range(len(heads))]).map(
            lambda bodies: [{"id": f"c{i}", "number": number, "title": title, "blocks": body}
                            for i, ((number, title), body) in enumerate(zip(heads, bodies))]))


def write_photo(path, rng):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".svg":
        path.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="30mm" height="20mm">'
                        '<rect width="30" height="20" fill="#9e1b22"/></svg>')
        return
    size = (rng.randrange(8, 64), rng.randrange(8, 64))
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(
        size[0] * size[1] * 3)))
    image.save(path, "PNG" if path.suffix == ".png" else "JPEG")


INSTALLED = fonts.Installed()  # the fonts looked up once for every example, as in one session


def _image_fields(spec):
    for name, field in spec.items():
        if field.role == "image":
            yield name
        elif field.role == "records":
            yield from _image_fields(field.check.spec)


IMAGE_FIELDS = {name for kind in kinds.KINDS.values() for name in _image_fields(kind.fields)}


def raw_image_paths(value):
    """The photo paths in chapter data as written (before the content stage reads it)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in IMAGE_FIELDS and isinstance(item, str):
                yield item
            else:
                yield from raw_image_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from raw_image_paths(item)


@settings(max_examples=FUZZ // 10 or 5, **FUZZ_SETTINGS)
@given(book_chapters=chapters(), arrived=st.floats(0, 1), seed=st.integers(0, 2**16))
def test_random_books_build_or_fail_cleanly(tmp_path_factory, book_chapters, arrived, seed):
    """Books of the content model's shape, with random text (markup-like characters too) and
    some photos arrived: each build ends in whole PDFs or one ContentError/BuildError."""
    import yaml
    from conftest import SmallBook
    rng = random.Random(seed)
    small = SmallBook(tmp_path_factory.mktemp("random"))
    (small.catalogue / "one.yaml").unlink()
    (small.catalogue / "two.yaml").unlink()
    small.book["chapters"] = [{"file": f"{chapter['id']}.yaml"} for chapter in book_chapters]
    small.book["production"] = {"cover": "separate"}
    small.write_book()
    for chapter in book_chapters:
        (small.catalogue / f"{chapter['id']}.yaml").write_text(
            yaml.safe_dump(chapter, allow_unicode=True, sort_keys=False), encoding="utf-8")
        for path in sorted(set(raw_image_paths(chapter["blocks"]))):
            if rng.random() < arrived:
                write_photo(small.root / path, rng)
    start = time.perf_counter()
    try:
        result = small.build(strict=False, pad=True)
    except (ContentError, BuildError) as error:
        one_clean_line(error)
    else:
        assert set(result.paths) >= {"print", "screen", "cover"}
        for path in result.paths.values():
            assert len(PdfReader(path).pages) > 0
        assert valid_pdf(result.paths["print"])
    assert time.perf_counter() - start < CASE_SECONDS
    shutil.rmtree(small.root)

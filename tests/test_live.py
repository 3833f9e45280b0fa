"""The live proof (live.py): served on the loopback only, nothing outside build/proofs, and in
a real headless browser the changed spread appears after a caption edit."""

import http.client
import io
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from urllib.request import urlopen

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops, ImageStat

from conftest import CATALOGUE
from typeset import live, proofs

BROWSER = shutil.which("chromium-headless-shell") or shutil.which("chromium")


@pytest.fixture
def served(tmp_path):
    """A proof server over tmp_path/proofs (one spread image), with a file beside the folder
    that must never be served."""
    folder = tmp_path / "proofs"
    folder.mkdir()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(folder / "spreads-01.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "secret.png")
    (tmp_path / "book.yaml").write_text("slug: secret\n")
    state = live.State()
    state.update(spreads=["spreads-01.png"])
    server = live.server(folder, state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def get(server, path):
    """The status of a GET of `path` exactly as written (no client-side normalising)."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    connection.putrequest("GET", path, skip_host=False)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_the_proof_listens_on_the_loopback_interface_only(served):
    assert served.server_address[0] == "127.0.0.1"
    assert served.socket.getsockname()[0] == "127.0.0.1"
    others = {address for *_, (address, *_) in socket.getaddrinfo(
        socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for address in others:  # the machine's other addresses refuse the connection
        with pytest.raises(OSError):
            socket.create_connection((address, served.server_address[1]), timeout=2).close()


@pytest.mark.parametrize("path", ["/proofs/../secret.png", "/proofs/%2e%2e/secret.png",
                                  "/proofs/..%2fsecret.png", "/proofs/../book.yaml",
                                  "/../book.yaml", "/proofs//etc/passwd", "/etc/passwd",
                                  "/proofs/spreads-01.png/../../secret.png"])
def test_nothing_outside_the_proofs_folder_is_served(served, path):
    status, body = get(served, path)
    assert status == 404 and b"slug" not in body


def test_the_page_the_state_and_the_spreads_are_served(served):
    assert get(served, "/")[0] == 200
    status, body = get(served, "/state.json")
    assert status == 200 and json.loads(body)["spreads"] == ["spreads-01.png"]
    status, body = get(served, "/proofs/spreads-01.png")
    assert status == 200 and body.startswith(b"\x89PNG")


def dom(url):
    """The proof page's DOM after its script ran, in a real headless browser."""
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
                           "--dump-dom", "--virtual-time-budget=4000", url],
                          capture_output=True, text=True, timeout=60)
    return done.stdout


def wait_for(url, test, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(url + "state.json", timeout=5) as response:
                state = json.loads(response.read())
            if test(state):
                return state
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the proof page did not reach the expected state in {seconds} s")


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium (Debian's "
                    "chromium-headless-shell: `make` installs it as root)")
def test_a_caption_edit_shows_its_spread_in_the_browser_and_an_error_keeps_it(tmp_path):
    """Edit a caption in a copy of the catalogue: the page shows the spread holding it, marked —
    first drawn from the layout, then from the finished print PDF, its pixels those of the
    PDF's page; then a YAML error: the page shows the one-line message with file:line and
    keeps the spreads."""
    shutil.copytree(CATALOGUE, tmp_path / "catalogue")
    shutil.copytree(CATALOGUE.parent / "images", tmp_path / "images")
    out, stop, urls = tmp_path / "build", threading.Event(), []
    thread = threading.Thread(target=live.proof, args=(tmp_path / "catalogue", out),
                              kwargs={"print_line": lambda line: None, "stop": stop,
                                      "ready": urls.append}, daemon=True)
    thread.start()
    try:
        while not urls:
            time.sleep(0.1)
        url = urls[0]
        first = wait_for(url, lambda state: state["spreads"])
        chapter = tmp_path / "catalogue" / "promotion.yaml"
        text = chapter.read_text(encoding="utf-8")
        chapter.write_text(text.replace("caption: 2018年5月22日，澳門特別行政區政府",
                                        "caption: 2018年5月22日，澳門特區政府"), encoding="utf-8")
        early = []  # the changed spread drawn from the layout, before the editions

        def finished(state):
            if state["version"] > first["version"] and state["changed"]:
                early.append(state["early"])
                return not state["early"]
            return False
        edited = wait_for(url, finished)
        assert early[0] is True, early
        page = dom(url)
        shown = re.findall(r'<img[^>]*data-name="([^"]+)"[^>]*class="changed"', page)
        assert shown == edited["changed"] == ["spreads-07.png"]  # folios 10–11
        assert "澳門特區政府" not in page  # the page shows images, not text
        served = Image.open(out / "proofs" / shown[0]).convert("RGB")
        pdf = pdfium.PdfDocument(str(out / "siyuan-tongxin-2021-print.pdf"))
        try:
            pdf_page = pdf[12]  # folio 11: the right-hand page of spread 7
            (_, _), crop = proofs._trim(pdf_page)
            render = pdf_page.render(scale=proofs.DPI / 72, crop=crop).to_pil().convert("RGB")
        finally:
            pdf.close()
        margin, gutter = round(proofs.DPI / 4), max(2, round(proofs.DPI / 25))
        left = (served.width - 2 * margin - gutter) // 2
        x = margin + left + gutter
        region = served.crop((x, margin, x + render.width, margin + render.height))
        difference = ImageChops.difference(region, render).convert("L")
        strong = difference.point(lambda value: 255 if value > 60 else 0).histogram()[255]
        assert ImageStat.Stat(difference).mean[0] < 2
        assert strong < 0.002 * render.width * render.height

        book = tmp_path / "catalogue" / "afterword.yaml"
        book.write_text(book.read_text(encoding="utf-8") + "  bad: [\n", encoding="utf-8")
        failed = wait_for(url, lambda state: state["error"])
        assert re.search(r"afterword\.yaml:\d+: ", failed["error"]) and "\n" not in failed["error"]
        page = dom(url)
        assert "afterword.yaml:" in page and 'class="shown"' in page
        assert len(re.findall(r"<img ", page)) == len(first["spreads"])
    finally:
        stop.set()
        thread.join(timeout=30)


def test_the_changed_spread_is_drawn_from_the_layout_before_the_editions(tmp_path):
    """After a caption edit the build tells the live proof of its layout (Session.laid_out)
    before it writes the editions: the spread holding the changed page is drawn then, marked
    — the print PDF on disk is still the last build's — and matches the spread drawn from the
    finished PDF afterwards (within a pixel of rounding)."""
    from typeset.build import build
    from typeset.session import Session
    shutil.copytree(CATALOGUE, tmp_path / "catalogue")
    shutil.copytree(CATALOGUE.parent / "images", tmp_path / "images")
    out, state = tmp_path / "build", live.State()
    hook, seen = live.early(out, state), {}

    def laid_out(book, rendered, session):
        hook(book, rendered, session)
        pdf = out / "siyuan-tongxin-2021-print.pdf"
        seen.update(changed=list(state.changed), early=state.early,
                    image=Image.open(out / "proofs" / state.changed[0]).convert("RGB")
                    if state.changed else None,
                    written=pdf.stat().st_mtime_ns if pdf.is_file() else None)

    session = Session(parts={}, laid_out=laid_out)
    show = live.after_build(out, state)
    show(build(tmp_path / "catalogue", out, pad=True, progress=lambda line: None,
               session=session), None, "")
    assert seen["changed"] == [] and not seen["early"]  # the first build: nothing to compare
    chapter = tmp_path / "catalogue" / "promotion.yaml"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace(
        "caption: 2018年5月22日，澳門特別行政區政府", "caption: 2018年5月22日，澳門特區政府"),
        encoding="utf-8")
    result = build(tmp_path / "catalogue", out, pad=True, progress=lambda line: None,
                   session=session)
    assert seen["changed"] == ["spreads-07.png"] and seen["early"]
    assert seen["written"] < result.paths["print"].stat().st_mtime_ns  # before the editions
    show(result, None, "")
    assert state.changed == ["spreads-07.png"] and not state.early
    final = Image.open(out / "proofs" / "spreads-07.png").convert("RGB")
    early = seen["image"]
    assert abs(early.width - final.width) <= 2 and abs(early.height - final.height) <= 2
    width, height = min(early.width, final.width) - 2, min(early.height, final.height) - 2
    means = [ImageStat.Stat(ImageChops.difference(
        early.crop((dx, dy, dx + width, dy + height)),
        final.crop((0, 0, width, height))).convert("L")).mean[0]
        for dx in range(3) for dy in range(3)]
    assert min(means) < 2, means


def test_a_proof_draws_small_drafts_of_the_photos_where_they_stand(small_book):
    """The proof is drawn from the finished print edition with its photos as small drafts
    (embed.drafts): a 4000×3000 camera photo held sideways (EXIF 6) becomes a ≤1000 px copy in
    its stored orientation, and the page looks as the press file does; a stand-in naming a
    file outside the book's folders is refused."""
    from pypdf import PdfReader

    from typeset import embed, samples
    from typeset.errors import BuildError
    (small_book.images / "one").mkdir()
    samples.camera_jpeg(small_book.images / "one" / "photo.jpg", (4000, 3000), orientation=6)
    result = small_book.build(strict=False)
    finished = small_book.out / ".cache" / "finished" / result.paths["print"].name
    data = finished.read_bytes()
    assert embed.has_stand_ins(data)
    drafted = embed.drafts(data, [small_book.images])
    assert not embed.has_stand_ins(drafted)
    sizes = []
    for page in PdfReader(io.BytesIO(drafted)).pages:
        for reference in (page["/Resources"].get("/XObject") or {}).values():
            image = reference.get_object()
            if image.get("/Subtype") == "/Image":
                sizes.append((int(image["/Width"]), int(image["/Height"])))
    assert sizes and all(max(size) <= embed.DRAFT for size in sizes)
    assert (750, 1000) in sizes  # stored sideways, as the camera wrote it

    def page_with_photo(pdf_bytes):
        pdf = pdfium.PdfDocument(pdf_bytes)
        try:
            for index in range(len(pdf)):
                page = pdf[index]
                if any(obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects()):
                    return page.render(scale=50 / 72).to_pil().convert("RGB")
        finally:
            pdf.close()
    drawn, press = page_with_photo(drafted), page_with_photo(result.paths["print"].read_bytes())
    assert drawn.size == press.size
    assert ImageStat.Stat(ImageChops.difference(drawn, press).convert("L")).mean[0] < 3
    with pytest.raises(BuildError, match="not in the book's images folder"):
        embed.drafts(data, [small_book.out])
    # What the proofs are drawn from (live, `make proofs`): the drafts, under the PDF's name.
    drawn = proofs.drawable(finished, small_book.out / "proof" / finished.name,
                            [small_book.images])
    assert drawn.name == finished.name and drawn.read_bytes() == drafted
    assert proofs.drawable(drawn, small_book.out / "again.pdf", []) == drawn  # no stand-ins

"""The benchmark (`make bench`, not part of `make test`): writes build/bench.json.

Two books, measured in the same minutes (their cold builds alternate): the catalogue with its
placeholders, and the same with a photo at every slot (`photos`: 150 camera JPEGs of
4000×3000 at quality 90 with EXIF, scans in grey, CMYK and YCCK, small video frames, an RGBA
QR code; generated once into build/bench-photos and hard-linked into the copy). For each:
- cold: the whole catalogue, all outputs, empty output folder (median of `--runs`);
- warm: the same after editing one caption, into the folder of a previous build (whose
  cache holds the laid-out parts: one part is laid out again);
- warm_proofs_changed: then the changed spreads rendered in a new process (`make proofs
  CHANGED=1`): a new process's time to the spread is warm + this;
- watch: inside one long-running process, as `make watch` and `make proof` do, for a caption
  edit, a paragraph edit that moves the blocks after it, and a style edit (a rule in the
  book's own styles/): the seconds to the finished editions and to the changed spreads
  on the proof page (drawn from the layout before the editions when at most 12 pages
  changed — `early` in each run —, else after them);
- isbn: `make isbn` on the last build (a new ISBN stamped, no new layout);
- sizes: every output and the whole output folder after a cold build and a rebuild.
And `large`: a synthetic ~1,000-page catalogue made by repeating the real chapters (same block
kinds) with a folio plan, built once (`--large 0` skips it).
Each result has the wall time, the per-stage split from the build's progress lines, the peak
memory of the whole process tree and how many parts the cache holds (0: laid out whole).
"""

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
STAGE = re.compile(r"^\[\d+/\d+\] (\w+)\s+([\d.]+) s$")


def run_build(catalogue, out):
    """One build in a child process: wall seconds, stage split, peak memory (MB)."""
    result, stdout = run(["build", "--pad", "--catalogue", str(catalogue), "--out", str(out)])
    result["stages"] = {m[1]: float(m[2]) for m in map(STAGE.match, stdout.splitlines()) if m}
    result["pages"] = int(re.search(r"print: .*\((\d+) pages", stdout)[1])
    result["parts_laid_out_in_parallel"] = len(list((Path(out) / ".cache" / "parts")
                                                    .glob("*.part")))
    return result


def run(arguments, script=None):
    """`python -m typeset …` (or a script) in a child process: wall seconds and peak memory.

    The build forks writers and workers, which share most of their memory with the parent:
    `peak_mb` is the largest total proportional set size (PSS) of the process tree, sampled
    every 250 ms, so shared pages count once; `peak_rss_mb` the largest single process's
    resident set, as the kernel reports it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    command = [sys.executable, "-c", script, *arguments] if script else \
        [sys.executable, "-m", "typeset", *arguments]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    peak = [0]
    sampler = threading.Thread(target=_sample_pss, args=(process, peak), daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(arguments[:1])} failed: {stderr.strip()}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(seconds, 2), "peak_mb": round(peak[0] / 1024),
            "peak_rss_mb": round(max(rss, before) / 1024)}, stdout


def _sample_pss(process, peak):
    while process.poll() is None:
        peak[0] = max(peak[0], sum(map(_pss_kb, _tree(process.pid))))
        time.sleep(0.25)


def _tree(pid):
    """The process and its descendants (Linux /proc)."""
    pids, found = [pid], []
    while pids:
        current = pids.pop()
        found.append(current)
        try:
            pids += map(int, Path(f"/proc/{current}/task/{current}/children").read_text().split())
        except OSError:
            pass
    return found


def _pss_kb(pid):
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    found = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
    return int(found[1]) if found else 0


# The watch loop: one process builds, then rebuilds after each edit (as `make watch`), and
# renders the changed spreads for the live proof (as `make proof`, live.py).
WATCH = r"""
import json, sys, time
from pathlib import Path
from typeset import live
from typeset.bench import EDITS
from typeset.build import build
from typeset.session import Session
catalogue, out, runs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
state = live.State()
session = Session(parts={}, laid_out=live.early(out, state))
show = live.after_build(out, state)
show(build(catalogue, out, pad=True, progress=lambda line: None, session=session), None, "")
session.settle()  # as watch does while it waits for the next save
times = {}
for name, edit in EDITS.items():
    for _ in range(runs):
        edit(catalogue)
        start = time.perf_counter()
        result = build(catalogue, out, pad=True, progress=lambda line: None, session=session)
        editions = time.perf_counter() - start
        early = state.shown - start if state.shown and state.shown > start else None
        show(result, None, "")
        session.settle()
        # The spread is on the page when the layout showed it (live.early), else after.
        spread = early if early is not None else time.perf_counter() - start
        times.setdefault(name, []).append({
            "editions": round(editions, 2), "spread": round(spread, 2),
            "spreads_changed": len(state.changed), "early": early is not None})
print(json.dumps(times))
"""


def watch_rebuilds(catalogue, out, runs):
    """For each edit (EDITS), in one long-running process: seconds to the finished editions
    and to the changed spreads on the proof page, per run; and the peak memory."""
    result, stdout = run([str(catalogue), str(out), str(runs)], script=WATCH)
    times = json.loads(stdout.strip().splitlines()[-1])
    return {name: {"editions_median": statistics.median(run["editions"] for run in runs),
                   "spread_median": statistics.median(run["spread"] for run in runs),
                   "runs": runs} for name, runs in times.items()}, result["peak_mb"]


def run_isbn(catalogue, out, number):
    """`make isbn`: set an ISBN and re-stamp the last build's outputs."""
    return run(["isbn", "--set", number, "--catalogue", str(catalogue), "--out", str(out)])[0]


def folder_mb(folder):
    return round(sum(path.stat().st_size for path in Path(folder).rglob("*")
                     if path.is_file() and not path.is_symlink()) / 1e6, 1)


def copy_book(root):
    shutil.copytree(PROJECT / "catalogue", root / "catalogue")
    shutil.copytree(PROJECT / "images", root / "images")
    return root / "catalogue"


def _toggle(path, plain, edited):
    """Edit a file one way, then back: every edit changes the page."""
    text = path.read_text(encoding="utf-8")
    text = text.replace(edited, plain, 1) if edited in text else text.replace(plain, edited, 1)
    path.write_text(text, encoding="utf-8")


def edit_caption(catalogue):
    _toggle(catalogue / "promotion.yaml", "簽字儀式", "簽字儀式（貴陽）")


def edit_paragraph(catalogue):
    """A sentence more (or less) in 教育幫扶's first paragraph: the blocks after it move."""
    _toggle(catalogue / "results.yaml", "  - paragraph: ", "  - paragraph: 澳門社會各界持續投入。")


def edit_style(catalogue):
    """A rule in the book's own styles (styles/ beside the catalogue): every page again."""
    path = catalogue.parent / "styles" / "bench.css"
    path.parent.mkdir(exist_ok=True)
    size = 8.5 if not path.exists() or "8.6pt" in path.read_text() else 8.6
    path.write_text(f".caption {{ font-size: {size}pt; }}\n", encoding="utf-8")


EDITS = {"caption": edit_caption, "paragraph": edit_paragraph, "style": edit_style}


PHOTOS = PROJECT / "build" / "bench-photos"  # generated once, kept between runs (not tracked)


def photo_pool(folder=PHOTOS):
    """The benchmark's photos, made once (samples.py): 150 camera JPEGs of 4000×3000 at
    quality 90 with EXIF (two held sideways, one progressive), greyscale letter scans, a CMYK
    and a YCCK clipping, small video frames and an RGBA QR code."""
    from . import samples
    folder.mkdir(parents=True, exist_ok=True)
    made = {"camera": samples.camera_set(folder / "camera", count=150)}
    odd = {"grey": lambda path, i: samples.grey_jpeg(path, seed=i),
           "cmyk": lambda path, i: samples.cmyk_jpeg(path, seed=i),
           "ycck": lambda path, i: samples.ycck_jpeg(path, seed=i),
           "small": lambda path, i: samples.camera_jpeg(path, size=(1280, 720), seed=100 + i),
           "rgba": lambda path, i: samples.rgba_png(path, seed=i)}
    for kind, make in odd.items():
        suffix = ".png" if kind == "rgba" else ".jpg"
        made[kind] = []
        for i in range(4):
            path = folder / kind / f"{kind}-{i}{suffix}"
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                make(path, i)
            made[kind].append(path)
    return made


def fill_with_photos(catalogue, pool):
    """Put a photo at every image path the catalogue names (hard links into the pool, so the
    copy costs no disk): letters get scans, two clippings a CMYK and a YCCK scan, video stills
    small frames, PNG slots the QR code, every other slot a camera photo."""
    from . import content, kinds
    book = content.load(catalogue)
    cameras, odd = iter(pool["camera"]), {kind: iter(files) for kind, files in pool.items()}
    clippings = 0
    for block in book.blocks():
        for path in kinds.images_of(block):
            target = book.images.joinpath(*Path(path).parts[1:])
            if target.exists() or path.endswith(".svg"):
                continue
            if path.endswith(".png"):
                source = next(odd["rgba"])
            elif block.kind == "letter":
                source = next(odd["grey"])
            elif block.kind == "clipping" and clippings < 2:
                source = next(odd["cmyk" if clippings == 0 else "ycck"])
                clippings += 1
            elif block.kind == "video":
                source = next(odd["small"], None) or next(cameras)  # frames from a broadcast
            else:
                source = next(cameras)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)


def large_book(root, copies):
    """The real chapters but the last repeated `copies` times in reading order under new ids,
    then the last (with the colophon): a catalogue of about 100 × `copies` pages with a folio
    plan, as a real one has — each copy's chapters fill the pages the real plan gives them."""
    catalogue = copy_book(root)
    book = yaml.safe_load((catalogue / "book.yaml").read_text(encoding="utf-8"))
    real = book["chapters"]
    span = real[-1]["folio"] - real[0]["folio"]  # the pages of one copy
    chapters = []
    for copy in range(copies):
        for entry in real[:-1]:
            source = yaml.safe_load((catalogue / entry["file"]).read_text(encoding="utf-8"))
            data = dict(source, id=f"{source['id']}-{copy}")
            for section in data.get("sections") or []:
                section["id"] = f"{section['id']}-{copy}"
            name = f"{copy:02d}-{entry['file']}"
            (catalogue / name).write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
            planned = {"file": name, "folio": entry["folio"] + copy * span}
            if entry.get("sections"):
                planned["sections"] = {f"{section}-{copy}": folio + copy * span
                                       for section, folio in entry["sections"].items()}
            chapters.append(planned)
    chapters.append({"file": real[-1]["file"], "folio": real[-1]["folio"] + (copies - 1) * span})
    for entry in real[:-1]:
        (catalogue / entry["file"]).unlink()
    book["chapters"] = chapters
    (catalogue / "book.yaml").write_text(yaml.safe_dump(book, allow_unicode=True), "utf-8")
    return catalogue


ISBNS = ("978-99965-1-234-6", "978-99965-1-235-3", "978-99965-1-236-0", "978-99965-1-237-7")


def summary(runs):
    return {"median_seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            **({"pages": runs[0]["pages"],
                "stages": {stage: statistics.median(r["stages"][stage] for r in runs)
                           for stage in runs[0]["stages"]}} if "stages" in runs[0] else {}),
            "runs": [r["seconds"] for r in runs]}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m typeset.bench")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--copies", type=int, default=10, help="chapter copies in the large book")
    parser.add_argument("--large", type=int, default=1, help="0: skip the large book")
    parser.add_argument("--out", type=Path, default=PROJECT / "build" / "bench.json")
    args = parser.parse_args(argv)
    results = {"cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M")}
    pool = photo_pool()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        books = {"placeholders": copy_book(scratch / "placeholders")}
        books["photos"] = copy_book(scratch / "photos")
        fill_with_photos(books["photos"], pool)
        cold = {name: [] for name in books}
        for i in range(args.runs):  # alternated: both books measured in the same minutes
            for name, catalogue in books.items():
                cold[name].append(run_build(catalogue, scratch / name / f"cold-{i}"))
        for name, catalogue in books.items():
            out = scratch / name / "cold-0"
            sizes = {"after_cold_mb": folder_mb(out)}
            warm = []
            for i in range(args.runs):
                edit_caption(catalogue)
                warm.append(run_build(catalogue, out))
            isbn = [run_isbn(catalogue, out, ISBNS[(i + 1) % len(ISBNS)])
                    for i in range(args.runs)]
            sizes.update({path.name.rsplit("-", 1)[-1].removesuffix(".pdf") + "_mb":
                          round(path.stat().st_size / 1e6, 1) for path in out.glob("*.pdf")})
            sizes["build_after_rebuild_mb"] = folder_mb(out)
            sizes["photos_mb"] = folder_mb(catalogue.parent / "images")
            proof = [run(["proofs", "--changed", "--catalogue", str(catalogue), "--out",
                          str(out)])[0]]
            watch, watch_peak = watch_rebuilds(catalogue, scratch / name / "watch", args.runs)
            results[name] = {"cold": summary(cold[name]), "warm": summary(warm),
                             "warm_proofs_changed": summary(proof),
                             "watch": {**watch, "peak_mb": watch_peak},
                             "isbn": summary(isbn), "sizes": sizes}
        if args.large:
            results["large"] = run_build(large_book(scratch / "large", args.copies),
                                         scratch / "large-out")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

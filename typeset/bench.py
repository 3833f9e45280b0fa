"""The benchmark (`make bench`, not part of `make test`): writes build/bench.json.

Scenarios, each run in a fresh process (so peak memory is its own):
- cold: the whole catalogue, all outputs, empty output folder (median of `--runs`);
- warm: the same after editing one caption, into the folder of a previous build (whose
  cache holds the laid-out parts: one part is laid out again);
- watch: rebuilds after a caption edit inside one long-running process, as `make watch` does;
- large: a synthetic ~1,000-page catalogue made by repeating the real chapters (same block
  kinds) with a folio plan, built once.
Each result has the wall time, the per-stage split from the build's progress lines, the peak
memory and how many parts the cache holds (0: the book was laid out whole).
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
    """One build in a child process: wall seconds, stage split, peak memory (MB).

    The build forks a writer for the screen edition, which shares most of its memory with the
    parent: `peak_mb` is the largest total proportional set size (PSS) of the build's processes,
    sampled every 250 ms, so shared pages count once; `peak_rss_mb` is the largest single
    process's resident set, as the kernel reports it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "typeset", "build", "--pad", "--catalogue",
                                str(catalogue), "--out", str(out)], cwd=PROJECT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    sampler = threading.Thread(target=_sample_pss, args=(process, peak), daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    sampler.join()
    if process.returncode:
        raise SystemExit(f"build failed: {stderr.strip()}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    stages = {m[1]: float(m[2]) for m in map(STAGE.match, stdout.splitlines()) if m}
    pages = int(re.search(r"print: .*\((\d+) pages", stdout)[1])
    parts = len(list((Path(out) / ".cache" / "parts").glob("*.part")))
    return {"seconds": round(seconds, 2), "stages": stages, "pages": pages,
            "parts_laid_out_in_parallel": parts,
            "peak_mb": round(peak[0] / 1024), "peak_rss_mb": round(max(rss, before) / 1024)}


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


# The watch loop: one process builds, then rebuilds after each caption edit (as `make watch`).
WATCH = r"""
import json, sys, time
from pathlib import Path
from typeset.bench import edit_caption
from typeset.build import build
from typeset.session import Session
catalogue, out, runs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
session = Session(parts={})
build(catalogue, out, pad=True, progress=lambda line: None, session=session)
seconds = []
for _ in range(runs):
    edit_caption(catalogue)
    start = time.perf_counter()
    build(catalogue, out, pad=True, progress=lambda line: None, session=session)
    seconds.append(round(time.perf_counter() - start, 2))
print(json.dumps(seconds))
"""


def watch_rebuilds(catalogue, out, runs):
    """Seconds of each rebuild after a caption edit, in one long-running process."""
    done = subprocess.run([sys.executable, "-c", WATCH, str(catalogue), str(out), str(runs)],
                          cwd=PROJECT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"watch rebuild failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def copy_book(root):
    shutil.copytree(PROJECT / "catalogue", root / "catalogue")
    shutil.copytree(PROJECT / "images", root / "images")
    return root / "catalogue"


def edit_caption(catalogue):
    path = catalogue / "promotion.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("簽字儀式", "簽字儀式。", 1), encoding="utf-8")


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m typeset.bench")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--copies", type=int, default=10, help="chapter copies in the large book")
    parser.add_argument("--out", type=Path, default=PROJECT / "build" / "bench.json")
    args = parser.parse_args(argv)
    results = {"cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M")}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        catalogue = copy_book(scratch / "book")
        cold = [run_build(catalogue, scratch / f"cold-{i}") for i in range(args.runs)]
        warm = []
        for i in range(args.runs):
            edit_caption(catalogue)
            warm.append(run_build(catalogue, scratch / "cold-0"))
        watch = watch_rebuilds(catalogue, scratch / "watch", args.runs)
        large = run_build(large_book(scratch / "large", args.copies), scratch / "large-out")
    for name, runs in (("cold", cold), ("warm", warm)):
        results[name] = {"median_seconds": statistics.median(r["seconds"] for r in runs),
                         "peak_mb": max(r["peak_mb"] for r in runs),
                         "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                         "pages": runs[0]["pages"],
                         "stages": {stage: statistics.median(r["stages"][stage] for r in runs)
                                    for stage in runs[0]["stages"]},
                         "runs": [r["seconds"] for r in runs]}
    results["watch"] = {"median_seconds": statistics.median(watch), "runs": watch}
    results["large"] = large
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

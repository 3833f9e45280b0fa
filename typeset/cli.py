"""The command line.

    python -m typeset build [--catalogue DIR] [--out DIR] [--strict] [--pad]
    python -m typeset check [same options]   (build, then list every finding)
    python -m typeset isbn --set 978-…   (re-stamp the built PDFs, no new layout)
    python -m typeset proofs [--changed]  (spreads and contact sheet of the last build)
    python -m typeset watch               (rebuild on every change, one line per build)
    python -m typeset proof [--port N]    (watch, and show the spreads live in a browser)
"""

import argparse
import re
import sys
import time
from pathlib import Path

import pikepdf

from . import PROJECT, content, embed, images, isbn, postprocess, report
from .build import build
from .editions import outputs
from .errors import BuildError, ContentError
from .model import LEVELS
from .session import Session


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m typeset", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build the PDFs and the preflight report",
                                    description="writes " + ", ".join(outputs()))
    check_cmd = commands.add_parser("check", help="build, then list every preflight finding")
    for command in (build_cmd, check_cmd):
        command.add_argument("--catalogue", type=Path, default=PROJECT / "catalogue",
                             help="folder holding book.yaml (default: catalogue/)")
        command.add_argument("--out", type=Path, default=PROJECT / "build",
                             help="output folder (default: build/)")
        command.add_argument("--strict", action="store_true",
                             help="fail on any error finding (folio drift, binding, overflow, "
                                  "WeasyPrint warnings); warnings never fail")
        command.add_argument("--pad", action="store_true",
                             help="add blank pages until the page count fits the binding")
    isbn_cmd = commands.add_parser("isbn", help="set the ISBN and re-stamp the built PDFs")
    isbn_cmd.add_argument("--set", dest="number", required=True, help="the ISBN, e.g. 978-…")
    proofs_cmd = commands.add_parser("proofs", help="render spreads and a contact sheet")
    proofs_cmd.add_argument("--changed", action="store_true",
                            help="only the spreads whose pages changed since the previous build")
    watch_cmd = commands.add_parser("watch", help="rebuild on every change under catalogue/, "
                                    "images/, templates/ and styles/")
    proof_cmd = commands.add_parser("proof", help="watch, and serve the spreads on "
                                    "http://127.0.0.1 (the changed one marked after each save)")
    proof_cmd.add_argument("--port", type=int, default=0, help="default: a free port")
    for command in (isbn_cmd, proofs_cmd, watch_cmd, proof_cmd):
        command.add_argument("--catalogue", type=Path, default=PROJECT / "catalogue")
        command.add_argument("--out", type=Path, default=PROJECT / "build")
    args = parser.parse_args(argv)
    try:
        if args.command == "isbn":
            return set_isbn(args.catalogue, args.out, args.number)
        if args.command == "proofs":
            return make_proofs(args.catalogue, args.out, args.changed)
        if args.command in ("proof", "watch"):
            from . import live, watch  # only here: a build does not start with their imports
            say = lambda line: print(line, flush=True)  # noqa: E731
            try:
                if args.command == "proof":
                    live.proof(args.catalogue, args.out, args.port, print_line=say)
                else:
                    watch.watch(args.catalogue, args.out, print_line=say)
            except KeyboardInterrupt:
                pass
            return 0
        result = build(args.catalogue, args.out, strict=args.strict, pad=args.pad)
    except (ContentError, BuildError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    shown = {"error", "warning"} if args.command == "check" else {"error"}
    for finding in result.findings:
        if finding.level in shown:
            print(finding, file=sys.stderr)
    print(report.table(result.findings))
    print(f"report: {shown_path(args.out / 'preflight.html')} and preflight.json")
    for edition, path in result.paths.items():
        with pikepdf.open(path) as pdf:  # reads what it needs, not a press file's photos
            pages = len(pdf.pages)
        print(f"{edition:>8}: {shown_path(path)} ({pages} page{'s' if pages > 1 else ''}, "
              f"{path.stat().st_size / 1e6:.1f} MB)")
    counts = {level: sum(f.level == level for f in result.findings) for level in LEVELS}
    print(f"built in {result.seconds:.1f} s — {counts['error']} errors, {counts['warning']} "
          f"warnings, {counts['info']} notes for the editor")
    return 1 if args.strict and counts["error"] else 0


def set_isbn(catalogue, out, number):
    """Write the ISBN into book.yaml and stamp it onto the PDFs of the last build."""
    start = time.perf_counter()
    try:
        new = isbn.parse(number)
    except isbn.IsbnError as error:
        raise ContentError(catalogue / "book.yaml", 0, f"isbn: {error}", "give a valid ISBN")
    book_yaml = catalogue / "book.yaml"
    text = book_yaml.read_text(encoding="utf-8")
    line = f"isbn: {new.hyphenated}"
    text, found = re.subn(r"(?m)^isbn:.*$", line, text)
    if not found:
        text = text.rstrip("\n") + f"\n{line}\n"
    session = Session()
    session.photos.update(images.load_checks(out / ".cache" / "photos.json"))
    book = content.load(catalogue, session.photos)
    paths = postprocess.restamp(content.replace_isbn(book, new), out, session)
    book_yaml.write_text(text, encoding="utf-8")
    for edition, path in paths.items():
        print(f"{edition:>8}: {shown_path(path)} stamped with ISBN {new.hyphenated}")
    print(f"re-stamped in {time.perf_counter() - start:.2f} s")
    return 0


def make_proofs(catalogue, out, changed):
    """build/proofs/: the print edition as spreads and a contact sheet, trimmed (its photos
    as small drafts: proofs.drawable)."""
    from . import proofs  # pdfium and pypdf: imported by the commands that draw only
    book = content.load(catalogue)
    pdf = out / f"{book.slug}-print.pdf"
    if not pdf.is_file():
        raise BuildError(f"{pdf} not found: build the book first (make)")
    previous = out / ".cache" / "previous" / pdf.name  # both with their photos left out
    current = out / ".cache" / "finished" / pdf.name
    if changed and not previous.is_file():
        raise BuildError("no previous build to compare with: build twice, then ask for --changed")
    start = time.perf_counter()
    drawn = proofs.drawable(current if current.is_file() else pdf,
                            out / ".cache" / "proof" / pdf.name,
                            embed.sources(book, out / ".cache"))
    result = proofs.proofs(drawn, out / "proofs", out / ".cache" / f"{book.slug}-manifest.json",
                           previous if changed else None, current=current)
    print(f"contact sheet: {shown_path(result.contact_sheet)}")
    print(f"{len(result.spreads)} spread{'s' if len(result.spreads) != 1 else ''} in "
          f"{shown_path(out / 'proofs')}" + (f", pages changed: {sorted(result.changed)}" if changed else ""))
    print(f"proofs in {time.perf_counter() - start:.1f} s")
    return 0


def shown_path(path):
    """A path as the user would type it: relative to the current folder when inside it."""
    path = Path(path).resolve()
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path

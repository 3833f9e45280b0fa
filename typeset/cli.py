"""The command line: `python -m typeset build [--catalogue DIR] [--out DIR] [--strict]`."""

import argparse
import sys
from pathlib import Path

from .build import build
from .errors import BuildError, ContentError

PROJECT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m typeset", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build the print and screen PDFs")
    build_cmd.add_argument("--catalogue", type=Path, default=PROJECT / "catalogue",
                           help="folder holding book.yaml (default: catalogue/)")
    build_cmd.add_argument("--out", type=Path, default=PROJECT / "build",
                           help="output folder (default: build/)")
    build_cmd.add_argument("--strict", action="store_true",
                           help="fail on any error finding: folio drift, WeasyPrint warnings")
    args = parser.parse_args(argv)
    try:
        result = build(args.catalogue, args.out, strict=args.strict)
    except (ContentError, BuildError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for finding in result.findings:
        print(finding, file=sys.stderr)
    pages = result.manifest.page_count
    for edition, path in result.paths.items():
        size = path.stat().st_size / 1e6
        print(f"{edition:>7}: {path} ({pages} pages, {size:.1f} MB)")
    errors = sum(f.level == "error" for f in result.findings)
    warnings = len(result.findings) - errors
    print(f"built in {result.seconds:.1f} s — {errors} errors, {warnings} warnings")
    return 0

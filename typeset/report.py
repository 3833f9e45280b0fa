"""The preflight report: a table in the terminal, build/preflight.json and build/preflight.html.

One report for the designer and the editor: what is wrong, where (folio, content file:line)
and what to do, counted by kind and level.
"""

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from . import files
from .html import environment
from .model import LEVELS


def summary(findings):
    """Counts by kind and level, kinds in order of their worst level."""
    counts = Counter((f.kind, f.level) for f in findings)
    kinds = sorted({f.kind for f in findings},
                   key=lambda kind: (min(LEVELS.index(level) for k, level in counts if k == kind),
                                     kind))
    return [(kind, {level: counts[(kind, level)] for level in LEVELS}) for kind in kinds]


def table(findings):
    """The terminal table: one row per kind, a column per level, a total row."""
    rows = summary(findings)
    width = max([len(kind) for kind, _ in rows] + [5])
    lines = [f"{'kind':<{width}}  {'errors':>6}  {'warnings':>8}  {'info':>4}"]
    for kind, count in rows:
        lines.append(f"{kind:<{width}}  {count['error']:>6}  {count['warning']:>8}  {count['info']:>4}")
    totals = Counter(f.level for f in findings)
    lines.append(f"{'total':<{width}}  {totals['error']:>6}  {totals['warning']:>8}  {totals['info']:>4}")
    return "\n".join(lines)


def write(findings, out_dir, book):
    """build/preflight.json and build/preflight.html; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"book": book.slug, "counts": dict(Counter(f.level for f in findings)),
            "findings": [asdict(f) for f in findings]}
    html = environment().get_template("preflight.html.j2").render(
        book=book, findings=findings, summary=summary(findings), levels=LEVELS)
    paths = {}
    for name, text in (("preflight.json", json.dumps(data, ensure_ascii=False, indent=1)),
                       ("preflight.html", html)):
        paths[name] = out_dir / name
        files.write_atomically(paths[name], text)
    return paths

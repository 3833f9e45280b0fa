"""Lengths as the design tokens write them (210mm, 10.5pt), in millimetres."""

import re

from .errors import BuildError

UNITS_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}


def to_mm(length):
    match = re.fullmatch(r"\s*([0-9.]+)\s*(mm|cm|in|pt|px)\s*", str(length))
    if not match:
        raise BuildError(f"design: `{length}` is not a length — write it as 210mm or 10.5pt")
    return float(match[1]) * UNITS_MM[match[2]]

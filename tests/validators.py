"""The field's own validator beside the project: `../shared/validators/verapdf` (veraPDF 1.28).

Tests that need it skip with the reason when it is absent (a clean clone without ../shared) or
cannot run (exit status 2).
"""

import re
import subprocess
from pathlib import Path

import pytest

VERAPDF = Path(__file__).resolve().parent.parent.parent / "shared" / "validators" / "verapdf" \
    / "verapdf"


def verapdf(path, profile):
    """veraPDF's verdict on `path` under `profile` (ua1, ua2, wt1a, 4 …): (compliant,
    {rule: failed checks})."""
    if not VERAPDF.is_file():
        pytest.skip(f"veraPDF is not beside the project ({VERAPDF})")
    run = subprocess.run([str(VERAPDF), str(path), profile], capture_output=True, text=True,
                         timeout=900)
    if run.returncode == 2:
        pytest.skip(f"veraPDF could not run: {run.stderr.strip()[:300]}")
    failed = {rule: int(checks) for rule, checks in
              re.findall(r"^FAIL (.+?)\s+checks=(\d+)", run.stdout, re.M)}
    assert failed or "compliant: true" in run.stdout or "failed rules: 0" in run.stdout, \
        "veraPDF reported a failure this parser missed:\n" + run.stdout[:2000]
    return "compliant: true" in run.stdout, failed

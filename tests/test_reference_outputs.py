"""The real catalogue's outputs, byte for byte, against the reference in
tests/reference/outputs.json: a change meant to leave the outputs alone (a restructuring)
must leave every byte of the four PDFs and preflight.json as they were.

A change meant to change the outputs updates the reference (`python
tests/test_reference_outputs.py` prints the new one) and says in its commit what changed
and why. The fonts and tools installed by `make` are part of the reference: it holds on the
Debian packages the Makefile installs."""

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REFERENCE = json.loads((HERE / "reference" / "outputs.json").read_text(encoding="utf-8"))
EPOCH = "1609459200"


def hashes(result, out):
    found = {name: hashlib.sha256(path.read_bytes()).hexdigest()
             for name, path in result.paths.items()}
    found["preflight.json"] = hashlib.sha256((out / "preflight.json").read_bytes()).hexdigest()
    return found


def build_both_ways(root):
    from conftest import CATALOGUE
    from typeset.build import build
    made = {}
    for way, jobs in (("parts", "2"), ("whole", "1")):
        os.environ["TYPESET_JOBS"] = jobs
        out = root / way
        made[way] = hashes(build(CATALOGUE, out, strict=True, pad=True,
                                 progress=lambda line: None), out)
    return made


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the parallel layout needs fork")
def test_outputs_are_the_reference_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("TYPESET_JOBS", "1")  # restored after the test
    made = build_both_ways(tmp_path)
    for way in ("parts", "whole"):
        assert made[way] == REFERENCE[way], (
            f"laid out {way}: the outputs differ from the reference — if that is meant, "
            f"record the new reference and say why: {json.dumps(made[way], indent=1)}")


if __name__ == "__main__":
    import tempfile
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(build_both_ways(Path(folder)), indent=1))

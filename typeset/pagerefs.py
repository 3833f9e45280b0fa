"""A speed fix for tagged PDFs: pydyf 0.13's `PDF.page_references` builds the tuple of every
page's reference each time it is read, and WeasyPrint 70's PDF/UA tagging reads it once per
structure element — time that grows with pages × elements (16 s of a 972-page screen edition).
Here it is built once and rebuilt only when a page has been added since. The output is the
same bytes (tested: editions written with and without it are equal).
"""

import pydyf

_ORIGINAL = {}


def install():
    """Patch pydyf 0.13 (idempotent); call before writing a PDF."""
    assert pydyf.__version__ == "0.13.0", (
        f"typeset.pagerefs patches pydyf 0.13.0's PDF.page_references; found pydyf "
        f"{pydyf.__version__}: check that property and update or drop the patch")
    if not _ORIGINAL:
        _ORIGINAL["page_references"] = pydyf.PDF.page_references
        pydyf.PDF.page_references = property(page_references)


def uninstall():
    """Restore pydyf's own property (for the comparison test)."""
    if _ORIGINAL:
        pydyf.PDF.page_references = _ORIGINAL.pop("page_references")


def page_references(pdf):
    kids = pdf.pages["Kids"]
    cached = pdf.__dict__.get("_typeset_page_references")
    if cached is None or cached[0] != len(kids):
        cached = (len(kids), _ORIGINAL["page_references"].fget(pdf))
        pdf.__dict__["_typeset_page_references"] = cached
    return cached[1]

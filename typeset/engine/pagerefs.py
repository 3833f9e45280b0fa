"""A speed fix for tagged PDFs: pydyf 0.13's `PDF.page_references` builds the tuple of every
page's reference each time it is read, and WeasyPrint 70's PDF/UA tagging reads it once per
structure element — time that grows with pages × elements (16 s of a 972-page screen edition).
Here it is built once and rebuilt only when a page has been added since. The output is the
same bytes (tested: editions written with and without it are equal).
"""

ORIGINAL = {}  # pydyf's own property, kept by patches.install


def _page_references(pdf):
    kids = pdf.pages["Kids"]
    cached = pdf.__dict__.get("_typeset_page_references")
    if cached is None or cached[0] != len(kids):
        cached = (len(kids), ORIGINAL["page_references"].fget(pdf))
        pdf.__dict__["_typeset_page_references"] = cached
    return cached[1]


page_references = property(_page_references)

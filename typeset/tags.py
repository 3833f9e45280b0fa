"""The screen edition's structure tree, kept aside while pypdf finishes the pages.

pypdf copies every object of a PDF it finishes, and the tagged screen edition has thousands of
structure elements (about 6,000 for the catalogue: 0.8 s of pypdf's time; ten times as many
at a thousand pages). None of them changes in the finish, so the tree is taken out before
(`detached`) and put back after (`attached`) with qpdf, its references to pages and link
annotations carried over by their position: page index (the pages padded for the binding
shift the ones after them) and the annotation's index on its page.
"""

import io

import pikepdf

PAGE, ANNOTATION = "/TypesetPage", "/TypesetAnnotation"


def detached(pdf_bytes):
    """The PDF without its structure tree, and the tree's PDF (None when untagged)."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        if "/StructTreeRoot" not in pdf.Root:
            return pdf_bytes, None
        del pdf.Root.StructTreeRoot
        buffer = io.BytesIO()
        pdf.save(buffer, compress_streams=False)
        return buffer.getvalue(), pdf_bytes


def attached(finished_bytes, tagged_bytes, page_index):
    """`finished_bytes` with the structure tree of `tagged_bytes`; `page_index(i)` is where
    the tagged PDF's page i is in the finished one. The document ID is derived from the
    content (qpdf's deterministic ID), so the same content gives the same bytes."""
    with pikepdf.open(io.BytesIO(tagged_bytes)) as tagged, \
            pikepdf.open(io.BytesIO(finished_bytes)) as finished:
        pages = {page.obj.objgen: index for index, page in enumerate(tagged.pages)}
        annotations = {annotation.objgen: (index, position)
                       for index, page in enumerate(tagged.pages)
                       for position, annotation in enumerate(page.obj.get("/Annots", []))}

        def to_positions(element):
            if "/Pg" in element:
                element.Pg = pikepdf.Dictionary({PAGE: pages[element.Pg.objgen]})
            if "/Obj" in element:
                element.Obj = pikepdf.Dictionary(
                    {ANNOTATION: pikepdf.Array(annotations[element.Obj.objgen])})

        root = tagged.Root.StructTreeRoot
        _walk(root, to_positions)
        copied = finished.copy_foreign(root)
        target = list(finished.pages)

        def to_objects(element):
            if "/Pg" in element and PAGE in element.Pg:
                element.Pg = target[page_index(int(element.Pg[PAGE]))].obj
            if "/Obj" in element and ANNOTATION in element.Obj:
                index, position = (int(n) for n in element.Obj[ANNOTATION])
                element.Obj = target[page_index(index)].obj.Annots[position]

        _walk(copied, to_objects)
        finished.Root.StructTreeRoot = copied
        buffer = io.BytesIO()
        finished.save(buffer, deterministic_id=True,
                      object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return buffer.getvalue()


def _walk(root, visit):
    """Every structure element and object reference of the tree, each once: from the Document
    down, and from the parent tree down and up (WeasyPrint leaves some elements out of their
    parent's kids)."""
    stack = [root]
    numbers = root.get("/ParentTree", {}).get("/Nums", [])
    for index in range(1, len(numbers), 2):
        value = numbers[index]
        stack += list(value) if isinstance(value, pikepdf.Array) else [value]
    seen = set()
    while stack:
        node = stack.pop()
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        visit(node)
        parent = node.get("/P")
        if isinstance(parent, pikepdf.Dictionary) and parent.get("/Type") == "/StructElem":
            stack.append(parent)
        kids = node.get("/K")
        if kids is None:
            continue
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(kid, pikepdf.Dictionary):
                stack.append(kid)

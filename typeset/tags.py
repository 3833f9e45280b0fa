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


def next_mcid(tagged_bytes, page):
    """The marked-content id the next content drawn on the tagged PDF's page `page` takes."""
    with pikepdf.open(io.BytesIO(tagged_bytes)) as tagged:
        key = tagged.pages[page].obj.get("/StructParents")
        if key is None:
            return 0
        numbers = tagged.Root.StructTreeRoot.ParentTree.Nums
        for index in range(0, len(numbers), 2):
            if int(numbers[index]) == int(key):
                return len(numbers[index + 1])
    return 0


def attached(finished_bytes, tagged_bytes, page_index, figures=(), outline=()):
    """`finished_bytes` with the structure tree of `tagged_bytes`; `page_index(i)` is where
    the tagged PDF's page i is in the finished one. `figures`: (tagged page, MCID, alternate
    text) of content drawn after the tagging (the ISBN stamp), each made a Figure at the end
    of the document; `outline`: the id of each outline item's target, in the outline's order.
    The tree is finished for PDF/UA: /IDTree of the elements' IDs, structure destinations,
    each contents entry's /Ref. The document ID is derived from the content (qpdf's
    deterministic ID), so the same content gives the same bytes."""
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
        _add_figures(finished, copied, figures, target, page_index, tagged)
        elements = _id_tree(finished, copied)
        _structure_destinations(finished, copied, elements, outline)
        buffer = io.BytesIO()
        finished.save(buffer, deterministic_id=True,
                      object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return buffer.getvalue()


def _add_figures(finished, root, figures, pages, page_index, tagged):
    """A Figure element for each piece of content drawn after the tagging."""
    document = root.K[0] if isinstance(root.K, pikepdf.Array) else root.K
    numbers = root.ParentTree.Nums
    for page, mcid, alt in figures:
        target = pages[page_index(page)].obj
        figure = finished.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.Figure, P=document, Pg=target,
            K=mcid, Alt=pikepdf.String(alt)))
        document.K.append(figure)
        key = int(tagged.pages[page].obj.StructParents)
        for index in range(0, len(numbers), 2):
            if int(numbers[index]) == key:
                numbers[index + 1].append(figure)


def _id_tree(finished, root):
    """The /IDTree every element with an /ID needs (PDF/UA: table headers' IDs are looked up
    in it); returns it as ID → element."""
    found = {}
    _walk(root, lambda element: found.setdefault(str(element.ID), element)
          if "/ID" in element else None)
    if found:
        names = []
        for key in sorted(found):
            names += [pikepdf.String(key), found[key]]
        root.IDTree = finished.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array(names)))
    return found


def _structure_destinations(finished, root, elements, outline):
    """Every destination also a structure destination (PDF/UA-2 8.8; the element carries the
    HTML id the link goes to, engine/structure.py): a named destination (the links') becomes
    a dictionary with the page destination /D every viewer reads and the element /SD; an
    outline item's GoTo action gets /SD. Each contents entry (TOCI) refers to the element its
    link opens (/Ref, PDF/UA-2 8.2.5.8)."""
    dests = finished.Root.get("/Names", {}).get("/Dests")
    if dests is not None:
        tree = pikepdf.NameTree(dests)
        for name, destination in list(tree.items()):
            element = elements.get(name)
            if element is not None and isinstance(destination, pikepdf.Array):
                tree[name] = pikepdf.Dictionary(
                    D=destination, SD=pikepdf.Array([element, *list(destination)[1:]]))

    def items(node):
        item = node.get("/First")
        while item is not None:
            yield item
            yield from items(item)
            item = item.get("/Next")

    if "/Outlines" in finished.Root:
        for item, target in zip(items(finished.Root.Outlines), outline):
            element, action = elements.get(target), item.get("/A")
            if element is not None and action is not None and "/D" in action:
                action.SD = pikepdf.Array([element, *list(action.D)[1:]])

    def refer(element):
        if element.get("/S") != "/TOCI":
            return
        stack = [element]
        while stack:
            node = stack.pop()
            if "/Obj" in node and isinstance(node.Obj.get("/Dest"), pikepdf.String):
                target = elements.get(str(node.Obj.Dest))
                if target is not None:
                    element.Ref = pikepdf.Array([target])
                return
            kids = node.get("/K")
            stack += [kid for kid in (kids if isinstance(kids, pikepdf.Array) else [kids])
                      if isinstance(kid, pikepdf.Dictionary)]

    _walk(root, refer)


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

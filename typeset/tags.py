"""The screen edition's structure tree, pdf for PDF/UA in place (qpdf, by reference:
the pages and their elements are the same objects throughout the finish, so nothing is
copied or renumbered): the Figures of content drawn after the tagging (the ISBN stamp),
the /IDTree, structure destinations, each contents entry's /Ref.
"""

import pikepdf


def next_mcid(pdf, page):
    """The marked-content id the next content drawn on the tagged PDF's page `page` takes."""
    key = pdf.pages[page].obj.get("/StructParents")
    if key is None:
        return 0
    numbers = pdf.Root.StructTreeRoot.ParentTree.Nums
    for index in range(0, len(numbers), 2):
        if int(numbers[index]) == int(key):
            return len(numbers[index + 1])
    return 0


def finish(pdf, figures=(), outline=()):
    """The tagged `pdf`'s tree pdf for PDF/UA. `figures`: (page object, MCID, alternate
    text) of content drawn after the tagging (the ISBN stamp), each made a Figure at the end
    of the document; `outline`: the id of each outline item's target, in the outline's order.
    Adds /IDTree of the elements' IDs, structure destinations, each contents entry's /Ref."""
    root = pdf.Root.StructTreeRoot
    _add_figures(pdf, root, figures)
    elements, entries = {}, []  # one walk of the tree finds both (0.035 s a walk)

    def visit(element):
        if "/ID" in element:
            elements.setdefault(str(element.ID), element)
        if element.get("/S") == "/TOCI":
            entries.append(element)

    _walk(root, visit)
    _id_tree(pdf, root, elements)
    _structure_destinations(pdf, elements, outline, entries)


def _add_figures(pdf, root, figures):
    """A Figure element for each piece of content drawn after the tagging."""
    document = root.K[0] if isinstance(root.K, pikepdf.Array) else root.K
    numbers = root.ParentTree.Nums
    for page, mcid, alt in figures:
        figure = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.Figure, P=document, Pg=page,
            K=mcid, Alt=pikepdf.String(alt)))
        document.K.append(figure)
        key = int(page.StructParents)
        for index in range(0, len(numbers), 2):
            if int(numbers[index]) == key:
                numbers[index + 1].append(figure)


def _id_tree(pdf, root, found):
    """The /IDTree every element with an /ID needs (PDF/UA: table headers' IDs are looked up
    in it), from `found`: ID → element."""
    if found:
        names = []
        for key in sorted(found):
            names += [pikepdf.String(key), found[key]]
        root.IDTree = pdf.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array(names)))


def _structure_destinations(pdf, elements, outline, entries):
    """Every destination also a structure destination (PDF/UA-2 8.8; the element carries the
    HTML id the link goes to, engine/structure.py): a named destination (the links') becomes
    a dictionary with the page destination /D every viewer reads and the element /SD; an
    outline item's GoTo action gets /SD. Each contents entry (TOCI) refers to the element its
    link opens (/Ref, PDF/UA-2 8.2.5.8)."""
    dests = pdf.Root.get("/Names", {}).get("/Dests")
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

    if "/Outlines" in pdf.Root:
        for item, target in zip(items(pdf.Root.Outlines), outline):
            element, action = elements.get(target), item.get("/A")
            if element is not None and action is not None and "/D" in action:
                action.SD = pikepdf.Array([element, *list(action.D)[1:]])

    for element in entries:
        stack = [element]
        while stack:
            node = stack.pop()
            if "/Obj" in node and isinstance(node.Obj.get("/Dest"), pikepdf.String):
                target = elements.get(str(node.Obj.Dest))
                if target is not None:
                    element.Ref = pikepdf.Array([target])
                break
            kids = node.get("/K")
            stack += [kid for kid in (kids if isinstance(kids, pikepdf.Array) else [kids])
                      if isinstance(kid, pikepdf.Dictionary)]


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

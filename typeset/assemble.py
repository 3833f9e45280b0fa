"""One edition's laid-out PDF joined from the PDFs of its parts (render by parts: watch, and
a cold build laid out in parallel), with pikepdf: qpdf copies the objects in C++, where pypdf
took a second for the tagged edition's structure tree. What a whole-document write gives for
free is redone across parts:

- fonts: a part is written without its font programs (engine.write_part), and the joined
  edition holds one program per face, subset to the glyphs every part uses (engine.programs)
  — not one subset per part (nine times the fonts);
- the structure tree (screen edition): one Document element holding each part's elements,
  the parent tree renumbered page by page;
- links: the named destinations of every part, so the contents page opens the chapters.

The last page of a part that is not the last (its part-end page, see render) is dropped.
"""

import hashlib
import io
import zlib
from contextlib import contextmanager

import pikepdf

from . import engine
from .errors import BuildError


def join(parts, font_programs, compress=True):
    """The parts' PDFs (in reading order) as one PDF's bytes: pages, fonts (`programs`),
    structure tree, links. `compress`: False for a proof on screen, drawn at once and thrown
    away."""
    with joined(parts, font_programs, compress) as (_, data):
        return data


@contextmanager
def joined(parts, font_programs, compress=True):
    """join(), open: yields the joined PDF (pikepdf) and its bytes, so that the finish goes on
    in the same PDF — opening the bytes again costs qpdf a pass over every object (0.04 s
    for the print edition, 0.1 s for the tagged screen edition). The parts' PDFs stay open
    until the block ends: qpdf reads their streams' data when the PDF is saved."""
    sources = [pikepdf.open(io.BytesIO(part.data)) for part in parts]
    try:
        out = sources[0]
        yield out, _joined(out, parts, sources, font_programs, compress)
    finally:
        for source in sources:
            source.close()


def _joined(out, parts, sources, font_programs, compress):
    tagged = "/StructTreeRoot" in out.Root
    destinations, structure = {}, []
    for index, (part, source) in enumerate(zip(parts, sources)):
        kept = list(source.pages)[:part.keep]
        kept_pages = {page.obj.objgen for page in kept}
        destinations.update({name: (index, destination) for name, destination
                             in _destinations(source, kept_pages).items()})
        if tagged:
            structure.append(_detached_structure(source, kept_pages))
        if index == 0:
            while len(out.pages) > part.keep:
                del out.pages[-1]
        else:
            out.pages.extend(kept)
    # Everything a part refers to, copied once (qpdf maps a source's pages to their copies).
    pages = list(out.pages)
    names = []
    for name in sorted(destinations):
        source_index, destination = destinations[name]
        names += [pikepdf.String(name), _local(out, destination, source_index)]
    if "/Names" not in out.Root:
        out.Root.Names = pikepdf.Dictionary()
    out.Root.Names.Dests = out.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array(names)))
    if "/Outlines" in out.Root:
        del out.Root.Outlines
    if tagged:
        _join_structure(out, structure, pages, [part.keep for part in parts])
    _share_fonts(out, font_programs, compress)
    _share_profiles(out)
    buffer = io.BytesIO()
    out.save(buffer, static_id=True, deterministic_id=False, compress_streams=compress,
             object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return buffer.getvalue()


def _local(out, obj, part_index):
    """`obj` of part `part_index` as an object of `out` (the first part's PDF is `out`)."""
    return obj if part_index == 0 else _copied(out, obj)


def _copied(out, obj):
    """`obj` of another PDF in `out`: indirect objects through qpdf (once per source object,
    so a page maps to its copy), direct arrays and dictionaries item by item."""
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return out.copy_foreign(obj)
    if isinstance(obj, pikepdf.Array):
        return pikepdf.Array([_copied(out, item) for item in obj])
    if isinstance(obj, pikepdf.Dictionary):
        return pikepdf.Dictionary({key: _copied(out, value) for key, value in obj.items()})
    return obj


def _document_element(root):
    """The Document element at the top of a structure tree."""
    return root.K[0] if isinstance(root.K, pikepdf.Array) else root.K


def _destinations(source, kept):
    """A part's named destinations on its kept pages: name → destination."""
    found = {}
    names = source.Root.get("/Names", {}).get("/Dests", {}).get("/Names", [])
    for index in range(0, len(names), 2):
        destination = names[index + 1]
        if destination[0].objgen in kept:
            found[str(names[index])] = destination
    return found


def _detached_structure(source, kept):
    """A part's top-level structure elements on its kept pages and its parent tree, cut
    loose from the part's root (so copying them does not copy the part's whole tree)."""
    root = source.Root.StructTreeRoot
    document = _document_element(root)
    elements = []
    for element in document.K:
        if "/Pg" in element and element.Pg.objgen not in kept:
            continue
        del element.P
        elements.append(element)
    numbers = root.ParentTree.Nums
    parents = {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)}
    # WeasyPrint leaves some elements (absolutely placed boxes) out of the Document's kids
    # while their parent is the Document: cut those loose too, to hang them on the one.
    # Each element is climbed from once: the marked contents of a paragraph share its chain.
    loose, seen, climbed = [], {element.objgen for element in elements}, set()
    top = document.objgen
    for value in parents.values():
        for element in (value if isinstance(value, pikepdf.Array) else [value]):
            while element.objgen not in climbed:
                climbed.add(element.objgen)
                parent = element.get("/P")
                if parent is None:
                    break
                if parent.objgen == top:
                    if element.objgen not in seen:
                        seen.add(element.objgen)
                        del element.P
                        loose.append(element)
                    break
                element = parent
    return elements, parents, loose


def _join_structure(out, structure, pages, kept):
    """One Document element over every part's elements; the parent tree renumbered in page
    order (each page, then its annotations), as WeasyPrint numbers one document's."""
    root = out.Root.StructTreeRoot
    document = _document_element(root)
    kids, numbers = [], []  # Python lists: appending to a pikepdf Array item by item is slow
    keys = iter(range(1 << 30))
    first = 0
    for index, (elements, parents, loose) in enumerate(structure):
        for element in elements:
            element = _local(out, element, index)
            element.P = document
            kids.append(element)
        for element in loose:
            _local(out, element, index).P = document
        for page in pages[first:first + kept[index]]:
            for holder, field_name in [(page, "/StructParents"),
                                       *((annotation, "/StructParent")
                                         for annotation in page.get("/Annots", []))]:
                if field_name not in holder:
                    continue
                entry = _local(out, parents[int(holder[field_name])], index)
                key = next(keys)
                holder[field_name] = key
                numbers += [key, entry]
        first += kept[index]
    document.K = pikepdf.Array(kids)
    root.ParentTree = out.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(numbers)))
    root.ParentTreeNextKey = next(keys)


def _share_fonts(out, font_programs, compress=True):
    """Every part's font dictionaries of a face point to one descendant font: the union of
    the parts' widths, one ToUnicode map and one program. `compress`: the maps compressed
    here, as qpdf would write them (the finish saves the same PDF again)."""
    shared = {}
    for font in _type0_fonts(out):
        name = str(font.BaseFont)
        if name not in font_programs:
            raise BuildError(f"font {name} in a part's PDF was not recorded when it was written")
        if name not in shared:
            program, glyphs = font_programs[name]
            shared[name] = _shared_font(out, font, glyphs, program, compress)
        font.DescendantFonts = pikepdf.Array([shared[name][0]])
        font.ToUnicode = shared[name][1]


def _resources(out):
    """The resource dictionaries of every page and of the forms drawn on them, each once."""
    seen = set()

    def visit(resources):
        if resources is None or resources.is_indirect and resources.objgen in seen:
            return
        if resources.is_indirect:
            seen.add(resources.objgen)
        yield resources
        for xobject in resources.get("/XObject", {}).values():
            if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                yield from visit(xobject.get("/Resources"))

    for page in out.pages:
        yield from visit(page.obj.get("/Resources"))


def _type0_fonts(out):
    """The composite fonts of every page and form, each once."""
    found = {}
    for resources in _resources(out):
        for font in resources.get("/Font", {}).values():
            if font.get("/Subtype") == "/Type0":
                found.setdefault(font.objgen, font)
    return list(found.values())


def _share_profiles(out):
    """One copy of each ICC profile colour space (every part of the print edition carries
    its own), held in one indirect array that every page's resources refer to."""
    spaces = {}
    for resources in _resources(out):
        for name, space in list(resources.get("/ColorSpace", {}).items()):
            if isinstance(space, pikepdf.Array) and len(space) == 2 \
                    and space[0] == "/ICCBased":
                key = hashlib.sha256(space[1].read_raw_bytes()).digest()
                if key not in spaces:
                    spaces[key] = out.make_indirect(
                        pikepdf.Array([pikepdf.Name.ICCBased, space[1]]))
                resources.ColorSpace[name] = spaces[key]


def _shared_font(out, font, glyphs, program, compress):
    descendant = font.DescendantFonts[0]
    descriptor = descendant.FontDescriptor
    file_key = "/FontFile3" if "/FontFile3" in descriptor else "/FontFile2"
    stream = pikepdf.Stream(out, b"")
    stream.write(engine.flated(program), filter=pikepdf.Name.FlateDecode)
    if file_key == "/FontFile3":
        stream.Subtype = pikepdf.Name.OpenType
    else:
        stream.Length1 = len(program)
    widths = {glyph: width for glyph, (width, _) in glyphs.items()}
    new_descriptor = pikepdf.Dictionary(dict(descriptor.items()))
    new_descriptor[file_key] = out.make_indirect(stream)
    box = list(descriptor.FontBBox)
    box[2] = max(widths.values()) if widths else 0
    new_descriptor.FontBBox = pikepdf.Array(box)
    new_descendant = pikepdf.Dictionary(dict(descendant.items()))
    new_descendant.FontDescriptor = out.make_indirect(new_descriptor)
    new_descendant.W = _widths(widths)
    to_unicode = pikepdf.Stream(out, b"")
    if compress:
        to_unicode.write(zlib.compress(_to_unicode(glyphs)), filter=pikepdf.Name.FlateDecode)
    else:
        to_unicode.write(_to_unicode(glyphs))
    return out.make_indirect(new_descendant), out.make_indirect(to_unicode)


def _widths(widths):
    """The /W array: runs of consecutive glyph ids, as WeasyPrint writes it (parsed from its
    PDF syntax: qpdf parses thousands of numbers faster than they are appended one by one)."""
    runs = []
    for glyph in sorted(widths):
        if glyph - 1 not in widths:
            runs.append([glyph, []])
        runs[-1][1].append(widths[glyph])
    syntax = " ".join(f"{first} [{' '.join(map(str, run))}]" for first, run in runs)
    return pikepdf.Object.parse(f"[{syntax}]".encode())


def _to_unicode(glyphs):
    """The ToUnicode CMap, as WeasyPrint writes it."""
    mapped = [(glyph, text) for glyph, (_, text) in sorted(glyphs.items()) if text]
    lines = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap",
             b"/CIDSystemInfo", b"<< /Registry (Adobe)", b"/Ordering (UCS)", b"/Supplement 0",
             b">> def", b"/CMapName /Adobe-Identity-UCS def", b"/CMapType 2 def",
             b"1 begincodespacerange", b"<0000> <ffff>", b"endcodespacerange"]
    for start in range(0, len(mapped), 100):
        batch = mapped[start:start + 100]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [f"<{glyph:04x}> <{text.encode('utf-16-be').hex()}>".encode()
                  for glyph, text in batch]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)

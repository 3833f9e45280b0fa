"""Which pages changed between two builds: each page hashed by what it draws — its content
streams and the XObjects, patterns and shadings it uses, compared by what a name refers to —
so a reflow or a new photo shows while a rebuild of the same content shows nothing (the
proofs mark those pages)."""

import hashlib
import re

from pypdf import PdfReader
from pypdf.generic import (ArrayObject, ByteStringObject, DictionaryObject, IndirectObject,
                           StreamObject)

# A resource a content stream uses: `/Name Do` (XObject), `/Name gs`, `/Name sh`, and the
# pattern set as a colour, `/Name scn`. Names are compared by what they refer to, not by the
# name: WeasyPrint numbers its XObjects (/x0, /x1 …) book-wide, so a photo added on page 10
# renames those of every later page without changing what they draw.
RESOURCE_USE = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+(Do|gs|sh|scn|SCN)\b")
CATEGORY = {b"Do": "/XObject", b"gs": "/ExtGState", b"sh": "/Shading", b"scn": "/Pattern",
            b"SCN": "/Pattern"}
SKIPPED_KEYS = {"/Parent", "/Length", "/Font", "/Resources"}


def changed_pages(old_pdf, new_pdf):
    """The 0-based indexes of the pages whose content differs between two PDFs, sorted; pages
    one of them lacks count as changed. Identical content gives []."""
    old, new = page_hashes(old_pdf), page_hashes(new_pdf)
    return [index for index in range(max(len(old), len(new)))
            if index >= len(old) or index >= len(new) or old[index] != new[index]]


def page_hashes(pdf_path):
    """A SHA-256 per page of what it draws: its trim and media boxes, its decoded content
    stream(s) with each resource name replaced by the hash of the object it names, and so the
    images, forms, patterns, shadings and graphics states it uses (fonts are left out: a
    changed glyph already changes the content stream)."""
    reader = PdfReader(str(pdf_path))
    cache = {}
    hashes = []
    for page in reader.pages:
        digest = hashlib.sha256()
        for box in (page.mediabox, page.trimbox):
            digest.update(repr([round(float(value), 3) for value in box]).encode())
        digest.update(str(page.get("/Rotate", 0)).encode())
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else None
        if contents is None:
            streams = []
        else:                          # (a stream with an empty dictionary is falsy)
            streams = contents if isinstance(contents, ArrayObject) else [contents]
        data = b"\n".join(_stream_data(stream.get_object()) for stream in streams)
        digest.update(_resolve_names(data, page.get("/Resources"), cache, set()))
        hashes.append(digest.hexdigest())
    return hashes


def _stream_data(stream):
    try:
        return stream.get_data()
    except Exception:                  # a filter pypdf cannot decode: its bytes as stored
        return stream._data or b""


def _resolve_names(data, resources, cache, active):
    """The content stream with each used resource's name replaced by the hash of its object."""
    resources = resources.get_object() if resources is not None else DictionaryObject()

    def replace(match):
        category = resources.get(CATEGORY[match[2]])
        category = category.get_object() if category is not None else None
        name = "/" + re.sub(rb"#([0-9a-fA-F]{2})", lambda m: bytes([int(m[1], 16)]),
                            match[1]).decode("latin-1")
        if not isinstance(category, DictionaryObject) or name not in category:
            return match[0]
        digest = _object_hash(category.raw_get(name), cache, active)
        return b"<" + digest.encode() + b"> " + match[2]

    return RESOURCE_USE.sub(replace, data)


def _object_hash(obj, cache, active):
    """Hex SHA-256 of an object, its indirect objects followed and cached by reference; a form
    or tiling pattern is hashed by its content stream with the resources it uses."""
    key = (obj.idnum, obj.generation) if isinstance(obj, IndirectObject) else None
    if key in cache:
        return cache[key]
    if key in active:                  # a cycle: the reference stands for itself
        return f"cycle-{key}"
    if key:
        active.add(key)
    digest = hashlib.sha256()
    value = obj.get_object() if isinstance(obj, IndirectObject) else obj
    if isinstance(value, DictionaryObject):
        digest.update(b"stream" if isinstance(value, StreamObject) else b"dict")
        for name in sorted(value):
            if name not in SKIPPED_KEYS:
                digest.update(name.encode() + b"=")
                digest.update(_object_hash(value.raw_get(name), cache, active).encode())
        if isinstance(value, StreamObject):
            data = _stream_data(value)
            if "/Resources" in value:  # a form XObject or tiling pattern draws with them
                data = _resolve_names(data, value["/Resources"], cache, active)
            digest.update(data)
    elif isinstance(value, ArrayObject):
        digest.update(b"array")
        for item in value:
            digest.update(_object_hash(item, cache, active).encode())
    elif isinstance(value, ByteStringObject):
        digest.update(b"bytes" + bytes(value))
    else:
        digest.update(f"{type(value).__name__}:{value}".encode())
    result = digest.hexdigest()
    if key:
        active.discard(key)
        cache[key] = result
    return result

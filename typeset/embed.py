"""The photographer's bytes into the published press files, one photo at a time.

Between the stages a photo is a stand-in (engine/photos.py): its image dictionary complete,
its data left out, `/TypesetPassThrough true` and its file in `/TypesetSource`. So the
layouts, parts, joins and finishes move a few megabytes whatever the photos weigh. `write`
publishes such a PDF: every object copied as qpdf reads it, each stand-in's data streamed
from its file in chunks (the bytes the camera wrote: EXIF, ICC profile and quantisation as
they are), the two keys dropped; a new cross-reference table. Memory holds one chunk of one
photo, never the sum of them. A PDF with no stand-in is written as it is.

`drafts` fills them for a proof on screen instead: small copies, decoded at a reduced scale.

Only files under the book's images folder are read (`allowed`); anything else is a BuildError.
"""

import functools
import io
import os
from pathlib import Path

import pikepdf
from PIL import Image

from .errors import BuildError

SOURCE, PASS_THROUGH, VERSION = "/TypesetSource", "/TypesetPassThrough", "/TypesetVersion"
MARKERS = (SOURCE, PASS_THROUGH, VERSION)
CHUNK = 1 << 20
DRAFT = 1000  # px, the longest side of a photo drawn for a proof (100 dpi: a bleed page is 850)


def sources(book, cache):
    """The folders a stand-in's file may be in: the book's photos, and the press copies the
    build converted for the editor (inks.convert_photos, `cache`/press-images)."""
    return [book.images, Path(cache) / "press-images"]


def has_stand_ins(data):
    return SOURCE.encode() in data


def write(data, target, allowed):
    """Write the PDF `data` to the open binary file `target`, stand-ins filled from their files
    (under one of the folders `allowed`)."""
    if not has_stand_ins(data):
        target.write(data)
        return
    allowed = [Path(folder).resolve() for folder in allowed]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        offsets = {}
        put = _Output(target)

        put(f"%PDF-{pdf.pdf_version}\n".encode() + b"%\xe2\xe3\xcf\xd3\n")
        seen = set()
        for obj in pdf.objects:
            if not obj.is_indirect or obj.objgen in seen or (
                    isinstance(obj, pikepdf.Stream) and obj.get("/Type") in ("/ObjStm", "/XRef")):
                continue
            seen.add(obj.objgen)
            number, generation = obj.objgen
            offsets[number] = (put.written, generation)
            put(f"{number} {generation} obj\n".encode())
            if isinstance(obj, pikepdf.Stream):
                _stream(obj, put, allowed)
            else:
                put(obj.unparse(resolved=True))
            put(b"\nendobj\n")
        _xref(pdf, offsets, put.written, put)


def drafts(data, allowed, longest=DRAFT):
    """The PDF `data` for a proof on screen: each stand-in filled with a small copy of its
    photo — decoded at a reduced DCT scale (Pillow's draft) to at most `longest` pixels a
    side, in its stored orientation (the page's matrix turns it), RGB or grey — so a spread
    renders in a fraction of the time the camera's pixels take. Never a press file."""
    if not has_stand_ins(data):
        return data
    allowed = [Path(folder).resolve() for folder in allowed]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Stream) or obj.stream_dict.get(SOURCE) is None \
                    or obj.stream_dict.get(PASS_THROUGH) is None:
                continue
            file = Path(str(obj.stream_dict[SOURCE])).resolve()
            if not any(file.is_relative_to(folder) for folder in allowed) or not file.is_file():
                raise BuildError(f"a photo to draw is not in the book's images folder: {file}")
            jpeg, size, grey = _draft(file, longest)
            obj.write(jpeg, filter=pikepdf.Name.DCTDecode)
            for key in (*MARKERS, "/Decode", "/SMask", "/Interpolate"):
                if key in obj.stream_dict:
                    del obj.stream_dict[key]
            obj.Width, obj.Height, obj.BitsPerComponent = size[0], size[1], 8
            obj.ColorSpace = pikepdf.Name.DeviceGray if grey else pikepdf.Name.DeviceRGB
        buffer = io.BytesIO()
        # Drawn at once and thrown away: not compressed again; the same PDF for the same drafts.
        pdf.save(buffer, deterministic_id=True, compress_streams=False)
        return buffer.getvalue()


@functools.lru_cache(maxsize=512)
def _drafted(file, size, mtime, longest):
    with Image.open(file) as image:
        scale = max(image.size) / longest
        if scale > 1:
            image.draft(image.mode if image.mode in ("RGB", "L") else "RGB",
                        (int(image.width / scale), int(image.height / scale)))
        grey = image.mode in ("L", "1", "I;16", "I")
        image = image.convert("L" if grey else "RGB")
        image.thumbnail((longest, longest))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        return out.getvalue(), image.size, grey


def _draft(file, longest):
    """A photo's small copy, kept per file, size and time in this process."""
    stat = file.stat()
    return _drafted(file, stat.st_size, stat.st_mtime_ns, longest)


class _Output:
    """Writes to the target file and counts the offset (the cross-reference table needs it)."""

    def __init__(self, target):
        self.target, self.written = target, target.tell()

    def __call__(self, chunk):
        self.target.write(chunk)
        self.written += len(chunk)

    def advance(self, count):
        """`count` bytes were written to the file past the Python buffer (copy_file_range)."""
        self.written += count


def _stream(obj, put, allowed):
    """A stream object: its dictionary with the length of what follows, then its data — a
    stand-in's from its file."""
    source = obj.stream_dict.get(SOURCE)
    file = None
    if source is not None and obj.stream_dict.get(PASS_THROUGH) is not None:
        file = Path(str(source)).resolve()
        if not any(file.is_relative_to(folder) for folder in allowed) or not file.is_file():
            raise BuildError(f"a photo to embed is not in the book's images folder: {file}")
        length = file.stat().st_size
    else:
        raw = obj.read_raw_bytes()
        length = len(raw)
    for key in (*MARKERS, "/Length"):
        if key in obj.stream_dict:
            del obj.stream_dict[key]
    put(obj.stream_dict.unparse()[:-2] + f"/Length {length} >>\nstream\n".encode())
    if file is None:
        put(raw)
    elif _copy(file, put, length) != length:
        raise BuildError(f"{file} changed while it was embedded: build again")
    put(b"\nendstream")


def _copy(file, put, length):
    """A photo's bytes after what `put` wrote: in the kernel (copy_file_range) when the target
    is a file, else chunk by chunk. Returns how many were copied."""
    target = getattr(put, "target", None)
    with file.open("rb") as photo:
        if target is not None and hasattr(os, "copy_file_range"):
            target.flush()
            copied = 0
            try:
                while copied < length and (step := os.copy_file_range(
                        photo.fileno(), target.fileno(), length - copied)):
                    copied += step
            except OSError:  # not supported between these files: copy it ourselves
                photo.seek(copied)
            else:
                put.advance(copied)
                return copied
            put.advance(copied)
        else:
            copied = 0
        while chunk := photo.read(CHUNK):
            put(chunk)
            copied += len(chunk)
    return copied


def _xref(pdf, offsets, start, put):
    size = max(offsets) + 1
    lines = [b"xref\n", f"0 {size}\n".encode(), b"0000000000 65535 f \n"]
    for number in range(1, size):
        if number in offsets:
            offset, generation = offsets[number]
            lines.append(f"{offset:010d} {generation:05d} n \n".encode())
        else:
            lines.append(b"0000000000 00000 f \n")
    trailer = pikepdf.Dictionary({key: value for key, value in pdf.trailer.items()
                                  if key not in ("/Prev", "/XRefStm", "/Size", "/Type",
                                                 "/W", "/Index", "/Filter", "/Length",
                                                 "/DecodeParms")})
    trailer.Size = size
    put(b"".join(lines) + b"trailer\n" + trailer.unparse() + f"\nstartxref\n{start}\n%%EOF\n"
        .encode())


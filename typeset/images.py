"""Photos: whether a file can be used at all (screen.py makes their screen-sized copies,
embed.py puts their bytes into the press files).

A file under images/ that the content names is checked when the content loads (`check`,
called by `fields.image`, once per file, size and time: the checks are kept in
build/.cache/photos.json), before anything is laid out: a file that Pillow cannot open, a
damaged or truncated one, one that is not the type its extension says, one larger than
Pillow's decompression-bomb limit, and an SVG that is not well-formed or refers to anything
outside itself (another file, a network URL, an XML entity) each stop the build with a
ContentError at the content's file:line, naming the image and the fix. They are errors, not
placeholders: a photo that has arrived but is broken must be replaced before the press, and a
placeholder would hide that. A file that has not arrived at all is still a placeholder and a
warning (preflight's `missing-image`).
"""

import hashlib
import io
import json
import re
import warnings
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from PIL import Image, ImageFile, UnidentifiedImageError

from . import files, forks


# What each file name extension promises (MPO: the JPEG variant many cameras write).
FORMATS = {".jpg": ("JPEG", "MPO"), ".jpeg": ("JPEG", "MPO"), ".png": ("PNG",)}


class Unusable(Exception):
    """A photo file the build cannot use: what is wrong with it and how to fix it."""

    def __init__(self, message, hint):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self):  # sent whole from a forked process (forks.run)
        return type(self), (self.message, self.hint)


def proportion(uri):
    """A photo's width ÷ height as it is shown (its EXIF orientation applied), from its
    header alone; None for a drawing (SVG)."""
    from .engine.photos import shown_size  # the turn the press and screen files apply
    path = files.from_uri(uri) if uri.startswith("file:") else Path(uri)
    if path.suffix.lower() == ".svg":
        return None
    (width, height), _ = shown_size(path)
    return width / height


def check(file):
    """Raise Unusable unless `file` is a whole image of the type its name says (JPEG, PNG) or
    a self-contained SVG; return the SHA-256 of its bytes (the key of its screen copies).
    Quick, no decoding: a JPEG's headers are read and its data must reach its end marker, a
    PNG's chunks are read and their checksums verified."""
    file = Path(file)
    data = file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if file.suffix.lower() == ".svg":
        check_svg(data)
        return digest
    expected = FORMATS[file.suffix.lower()]
    try:
        with strict_decoding(), warnings.catch_warnings():
            # Past Pillow's limit it only warns; past twice the limit it refuses. Both stop here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in expected:
                    raise Unusable(f"is a {image.format} file, not a {expected[0]} as its name "
                                   "says", f"save it as {expected[0]}, or give it the extension "
                                   f".{image.format.lower()} (here and in the content)")
                if image.format == "PNG":
                    image.verify()
                elif not _jpeg_complete(data):
                    raise Unusable("is truncated (its image data stops before the end)",
                                   "replace it with the original photo")
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        size = re.search(r"\((\d+) pixels\)", str(error))
        raise Unusable(f"has {size[1] if size else 'too many'} pixels, more than Pillow's limit "
                       f"of {Image.MAX_IMAGE_PIXELS} (a decompression bomb?)",
                       "supply the photo at its print size (a few thousand pixels a side)")
    except UnidentifiedImageError:
        raise Unusable(f"is not a {expected[0]} image (empty, damaged or another kind of file)",
                       "replace it with the original photo")
    except Unusable:
        raise
    except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, ValueError …
        raise Unusable(f"is damaged or truncated ({error})", "replace it with the original photo")
    return digest


@contextmanager
def strict_decoding():
    """Pillow refuses a damaged file for the `with` body: WeasyPrint lets it load truncated
    files (it sets LOAD_TRUNCATED_IMAGES on import), which would print grey where data is
    missing."""
    lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def check_folder(folder, checks):
    """Check every photo file under `folder` that `checks` (by file, size and time) does not
    hold yet, in as many processes as there are cores: the content stage then finds each
    check made."""
    if not folder.is_dir():
        return
    todo = []
    for file in sorted(folder.rglob("*")):
        if file.suffix.lower() in (*FORMATS, ".svg") and file.is_file() and not file.is_symlink():
            stat = file.stat()
            key = (file.resolve(), stat.st_size, stat.st_mtime_ns)
            if key not in checks:
                todo.append((key, file))

    def checked(group):
        def task():
            found = {}
            for key, file in group:
                try:
                    found[key] = check(file)
                except Unusable as problem:
                    found[key] = problem
            return found
        return task

    jobs = min(forks.jobs(), max(1, len(todo) // 8))
    for found in forks.run({f"photo checks {start}": checked(todo[start::jobs])
                            for start in range(jobs)}).values():
        checks.update(found)


def _jpeg_complete(data):
    """Whether a JPEG's image data runs to its end marker: the segments are walked to the
    first scan, then the end-of-image marker is looked for after it (inside the scans a 0xFF
    byte is always followed by 0x00 or a restart marker, never by 0xD9). Damage inside the
    scans is found when the photo is decoded for the screen (screen.py)."""
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan
            return data.find(b"\xff\xd9", position) > 0
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
    return False


def load_checks(path):
    """The photo checks a build kept (by file, size and time): a photo already checked is not
    read again in the next build (fields.image)."""
    try:
        kept = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    checks = {}
    for key, value in kept.items():
        name, size, time = key.rsplit("|", 2)
        checks[(Path(name), int(size), int(time))] = (
            Unusable(value["problem"], value["hint"]) if "problem" in value else value["sha256"])
    return checks


def save_checks(path, checks, images):
    """Keep the checks of the files under `images` that still exist as they were checked."""
    kept = {}
    for (name, size, time), value in checks.items():
        if name.is_relative_to(images) and name.is_file() and (
                name.stat().st_size, name.stat().st_mtime_ns) == (size, time):
            kept[f"{name}|{size}|{time}"] = (
                {"problem": value.message, "hint": value.hint}
                if isinstance(value, Unusable) else {"sha256": value})
    files.write_cache(path, json.dumps(kept, ensure_ascii=False, sort_keys=True))


SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
_REFERENCE_ATTRIBUTES = {"href", "src", "{http://www.w3.org/1999/xlink}href"}
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)|"
                      r"@import\s*(?:url\(\s*)?['\"]?\s*([^'\")\s;]*)", re.I)


def _entity_declarations(data):
    """The names of the XML entities the document declares (in whatever encoding)."""
    parser = expat.ParserCreate()
    names = []
    parser.EntityDeclHandler = lambda name, *_: names.append(name)
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        pass  # not well-formed: the parse in check_svg says so
    return names


def check_svg(data):
    """Raise Unusable unless `data` is a well-formed SVG that refers to nothing outside itself:
    only `#fragment` and `data:` references, no XML entities."""
    if _entity_declarations(data):
        raise Unusable("declares XML entities (<!ENTITY …>)",
                       "remove the DOCTYPE's entity declarations and write the text out")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise Unusable(f"is not well-formed SVG ({error})", "export the SVG again")
    if root.tag not in (f"{SVG_NAMESPACE}svg", "svg"):
        raise Unusable(f"is not an SVG image (its root element is <{root.tag}>)",
                       "export the drawing as SVG")
    for element in root.iter():
        references = [value for name, value in element.attrib.items()
                      if name in _REFERENCE_ATTRIBUTES]
        css = list(element.attrib.values())
        if element.tag in (f"{SVG_NAMESPACE}style", "style"):
            css.append(element.text or "")
        references += [url or imported for text in css
                       for url, imported in _CSS_URL.findall(text)]
        for reference in references:
            reference = reference.strip()
            if reference and not reference.startswith("#") \
                    and not reference.lower().startswith("data:"):
                raise Unusable(f"refers to `{reference}`: an SVG must be self-contained",
                               "embed what it shows in the SVG (a data: URL) or remove the "
                               "reference")

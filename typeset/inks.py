"""What a press file says about its colours, for the printer's preflight (PDF/X-4):

- every RGB photo tagged with its ICC profile (`ICCBased`: its own, or sRGB when it came
  without one) — PDF/X-4 lets the RIP convert it to the press's inks — or, when the editor
  chooses `photo_colour: convert`, converted to the output profile's CMYK here; no DeviceRGB
  image either way;
- every transparency group given a blending colour space (the press's CMYK), and a page that
  draws transparency given a page group;
- the output intent naming its printing condition — a registered one (FOGRA39 …) when
  book.yaml gives it, else marked as a stand-in — and repeated as a PDF/A intent with the same
  profile, so validators that read PDF/A's colour rules (veraPDF) see it too.

pypdf only, on the finished writer. The text and vector colours are the press's inks already:
the edition is drawn with its palette (colour.py, engine/colours.py).
"""

import hashlib
import io
import re
from pathlib import Path

from PIL import Image, ImageCms
from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, NameObject,
                           NumberObject, TextStringObject)

from . import files, forks

SRGB = Path("/usr/share/color/icc/ghostscript/srgb.icc")  # libgs-common, installed by make
REGISTRY = "http://www.color.org"


def tag_photos(writer):
    """RGB images → ICCBased with the photo's own profile, or sRGB."""
    spaces = {}
    for image in _images(writer):
        if image.get("/ColorSpace") != "/DeviceRGB":
            continue
        profile = _profile_of(image.get("/TypesetSource"))
        key = hashlib.sha256(profile).digest()
        if key not in spaces:
            stream = DecodedStreamObject()
            stream.set_data(profile)
            stream = stream.flate_encode()
            stream[NameObject("/N")] = NumberObject(3)
            stream[NameObject("/Alternate")] = NameObject("/DeviceRGB")
            spaces[key] = writer._add_object(ArrayObject([NameObject("/ICCBased"),
                                                          writer._add_object(stream)]))
        image[NameObject("/ColorSpace")] = spaces[key]


def convert_photos(writer, book, cache_dir):
    """`production.photo_colour: convert`: every RGB photo the press file takes from its file
    is converted once to the output profile's CMYK (LittleCMS, relative colorimetric with
    black-point compensation, its own profile or sRGB as the source) and saved as a JPEG at
    quality 95, cached by the photo's content and the profile; the press file then embeds the
    converted file (embed.py) as DeviceCMYK. Its pixels stay as stored: the page's matrix
    still turns it."""
    profile = Path(book.production["output_profile"])
    made = {}
    for image in _images(writer):
        if image.get("/ColorSpace") != "/DeviceRGB" or "/TypesetPassThrough" not in image:
            continue
        source = Path(str(image["/TypesetSource"]))
        key = hashlib.sha256(source.read_bytes() + profile.read_bytes()).hexdigest()[:40]
        target = Path(cache_dir) / f"{key}.jpg"
        made[target] = source
        image[NameObject("/ColorSpace")] = NameObject("/DeviceCMYK")
        image[NameObject("/Decode")] = ArrayObject([NumberObject(v) for v in (1, 0) * 4])
        image[NameObject("/TypesetSource")] = TextStringObject(str(target))
    todo = sorted((target, source) for target, source in made.items() if not target.is_file())
    jobs = min(forks.jobs(), len(todo))

    def convert(group):
        def task():
            for target, source in group:
                with Image.open(source) as photo:
                    icc = photo.info.get("icc_profile")
                    rgb = photo.convert("RGB")
                srgb = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else \
                    ImageCms.getOpenProfile(str(SRGB))
                cmyk = ImageCms.profileToProfile(
                    rgb, srgb, ImageCms.getOpenProfile(str(profile)),
                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode="CMYK",
                    flags=ImageCms.Flags.BLACKPOINTCOMPENSATION)
                buffer = io.BytesIO()
                cmyk.save(buffer, "JPEG", quality=95)  # Adobe, inverted: hence the Decode
                files.write_atomically(target, buffer.getvalue())
        return task

    forks.run({f"convert {start}": convert(todo[start::jobs]) for start in range(jobs)})
    files.forget_others(cache_dir, "*.jpg", {target.name for target in made})


def _profile_of(source):
    """The ICC profile a photo file carries (an RGB one), else sRGB's."""
    if source is not None and Path(str(source)).is_file():
        with Image.open(str(source)) as photo:
            icc = photo.info.get("icc_profile")
        if icc and icc[16:20] == b"RGB ":
            return icc
    return SRGB.read_bytes()


def blend_in(writer, space):
    """Every transparency group blends in `space` (/DeviceCMYK for the press); a page that
    draws transparency gets a page group too."""
    for page in writer.pages:
        for holder in _forms_and_page(page):
            group = holder.get("/Group")
            if group is not None and group.get_object().get("/S") == "/Transparency":
                group.get_object()[NameObject("/CS")] = NameObject(space)
        if "/Group" not in page and _draws_transparency(page, page.get("/Resources"), set()):
            page[NameObject("/Group")] = DictionaryObject({
                NameObject("/Type"): NameObject("/Group"),
                NameObject("/S"): NameObject("/Transparency"),
                NameObject("/CS"): NameObject(space)})


# A resource a content stream uses: `/Name Do` (XObject), `/Name gs` (graphics state).
USE = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+(Do|gs)\b")


def _draws_transparency(holder, resources, seen):
    """Whether a page or form draws with transparency: a graphics state with alpha or a soft
    mask, an image with a soft mask, or a form that is a transparency group or draws one."""
    contents = holder.get_contents() if hasattr(holder, "get_contents") else holder
    data = contents.get_data() if contents is not None else b""
    resources = (resources or {})
    resources = resources.get_object() if hasattr(resources, "get_object") else resources
    for name, operator in USE.findall(data):
        kind = "/XObject" if operator == b"Do" else "/ExtGState"
        found = resources.get(kind, {}).get("/" + name.decode("latin-1"))
        if found is None:
            continue
        found = found.get_object()
        if operator == b"gs":
            if any(float(found.get(key, 1)) < 1 for key in ("/CA", "/ca")) or \
                    found.get("/SMask", "/None") != "/None":
                return True
        elif found.get("/Subtype") == "/Image" and "/SMask" in found:
            return True
        elif found.get("/Subtype") == "/Form" and id(found) not in seen:
            seen.add(id(found))
            if "/Group" in found or _draws_transparency(found, found.get("/Resources"), seen):
                return True
    return False


def output_intents(writer, book, intents=None):
    """The PDF/X output intent named for its printing condition, and its PDF/A twin. For a
    file made without one (the imposed sheets), `intents` are the print edition's."""
    root = writer._root_object
    if intents is not None:
        root[NameObject("/OutputIntents")] = intents
    existing = root.get("/OutputIntents")
    if existing is None:
        return
    existing = existing.get_object()
    reference = next(intent for intent in existing
                     if intent.get_object().get("/S") == "/GTS_PDFX")
    pdfx = reference.get_object()
    condition = book.production["output_condition"]
    profile_name = str(pdfx.get("/Info", pdfx.get("/OutputConditionIdentifier", "")))
    if condition:
        pdfx[NameObject("/OutputConditionIdentifier")] = TextStringObject(condition)
        pdfx[NameObject("/RegistryName")] = TextStringObject(REGISTRY)
        pdfx[NameObject("/Info")] = TextStringObject(profile_name)
    else:
        pdfx[NameObject("/OutputConditionIdentifier")] = TextStringObject("Custom")
        pdfx[NameObject("/Info")] = TextStringObject(
            f"{profile_name}: a stand-in, not a characterised printing condition — replace "
            "it with the printer's profile (production.output_profile, output_condition)")
    twin = DictionaryObject({key: value for key, value in pdfx.items()})
    twin[NameObject("/S")] = NameObject("/GTS_PDFA1")
    root[NameObject("/OutputIntents")] = ArrayObject([reference, writer._add_object(twin)])


def _images(writer):
    seen = set()
    for page in writer.pages:
        for holder in _forms_and_page(page):
            for reference in holder.get("/Resources", {}).get("/XObject", {}).values():
                found = reference.get_object()
                if found.get("/Subtype") == "/Image" and id(found) not in seen:
                    seen.add(id(found))
                    yield found


def _forms_and_page(page):
    """The page, then every form XObject it draws (at any depth), each once."""
    stack, seen = [page], set()
    while stack:
        holder = stack.pop()
        yield holder
        for reference in holder.get("/Resources", {}).get("/XObject", {}).values():
            found = reference.get_object()
            if found.get("/Subtype") == "/Form" and id(found) not in seen:
                seen.add(id(found))
                stack.append(found)

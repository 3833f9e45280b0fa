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

pikepdf (qpdf), on the edition being finished. The text and vector colours are the press's inks already:
the edition is drawn with its palette (colour.py, engine/colours.py).
"""

import hashlib
import io
import re
from pathlib import Path

import pikepdf
from PIL import Image, ImageCms

from . import files, forks, metadata

SRGB = Path("/usr/share/color/icc/ghostscript/srgb.icc")  # libgs-common, installed by make
REGISTRY = "http://www.color.org"
NONE = pikepdf.Name("/None")


def tag_photos(pdf):
    """RGB images → ICCBased with the photo's own profile, or sRGB."""
    spaces = {}
    for image in _images(pdf):
        if image.get("/ColorSpace") != "/DeviceRGB":
            continue
        profile = _profile_of(image.get("/TypesetSource"))
        key = hashlib.sha256(profile).digest()
        if key not in spaces:
            stream = pdf.make_stream(profile, N=3, Alternate=pikepdf.Name.DeviceRGB)
            spaces[key] = pdf.make_indirect(pikepdf.Array([pikepdf.Name.ICCBased, stream]))
        image.ColorSpace = spaces[key]


def convert_photos(pdf, book, cache_dir):
    """`production.photo_colour: convert`: every RGB photo the press file takes from its file
    is converted once to the output profile's CMYK (LittleCMS, relative colorimetric with
    black-point compensation, its own profile or sRGB as the source) and saved as a JPEG at
    quality 95, cached by the photo's content and the profile; the press file then embeds the
    converted file (embed.py) as DeviceCMYK. Its pixels stay as stored: the page's matrix
    still turns it."""
    profile = Path(book.production["output_profile"])
    made = {}
    for image in _images(pdf):
        if image.get("/ColorSpace") != "/DeviceRGB" or "/TypesetPassThrough" not in image:
            continue
        source = Path(str(image.TypesetSource))
        key = hashlib.sha256(source.read_bytes() + profile.read_bytes()).hexdigest()[:40]
        target = Path(cache_dir) / f"{key}.jpg"
        made[target] = source
        image.ColorSpace = pikepdf.Name.DeviceCMYK
        image.Decode = pikepdf.Array([1, 0] * 4)
        image.TypesetSource = pikepdf.String(str(target))
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
                files.write_cache(target, buffer.getvalue())
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


def blend_in(pdf, space):
    """Every transparency group blends in `space` (/DeviceCMYK for the press); a page that
    draws transparency gets a page group too."""
    for page in pdf.pages:
        for holder in _forms_and_page(page.obj):
            group = holder.get("/Group")
            if group is not None and group.get("/S") == "/Transparency":
                group.CS = pikepdf.Name(space)
        if "/Group" not in page.obj and \
                _draws_transparency(page.obj, page.obj.get("/Resources"), set()):
            page.obj.Group = pikepdf.Dictionary(Type=pikepdf.Name.Group,
                                                S=pikepdf.Name.Transparency,
                                                CS=pikepdf.Name(space))


# A resource a content stream uses: `/Name Do` (XObject), `/Name gs` (graphics state).
USE = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+(Do|gs)\b")


def _drawing(holder):
    """What a page (all its content streams) or a form draws."""
    if isinstance(holder, pikepdf.Stream):
        return holder.read_bytes()
    return metadata.drawing(pikepdf.Page(holder))


def _draws_transparency(holder, resources, seen):
    """Whether a page or form draws with transparency: a graphics state with alpha or a soft
    mask, an image with a soft mask, or a form that is a transparency group or draws one."""
    resources = resources if resources is not None else pikepdf.Dictionary()
    for name, operator in USE.findall(_drawing(holder)):
        kind = "/XObject" if operator == b"Do" else "/ExtGState"
        found = resources.get(kind, {}).get("/" + name.decode("latin-1"))
        if found is None:
            continue
        if operator == b"gs":
            if any(float(found.get(key, 1)) < 1 for key in ("/CA", "/ca")) or \
                    found.get("/SMask", NONE) != NONE:
                return True
        elif found.get("/Subtype") == "/Image" and "/SMask" in found:
            return True
        elif found.get("/Subtype") == "/Form" and found.objgen not in seen:
            seen.add(found.objgen)
            if "/Group" in found or _draws_transparency(found, found.get("/Resources"), seen):
                return True
    return False


def output_intents(pdf, book):
    """The PDF/X output intent named for its printing condition, and its PDF/A twin."""
    existing = pdf.Root.get("/OutputIntents")
    if existing is None:
        return
    pdfx = next(intent for intent in existing if intent.get("/S") == "/GTS_PDFX")
    condition = book.production["output_condition"]
    profile_name = str(pdfx.get("/Info", pdfx.get("/OutputConditionIdentifier", "")))
    if condition:
        pdfx.OutputConditionIdentifier = pikepdf.String(condition)
        pdfx.RegistryName = pikepdf.String(REGISTRY)
        pdfx.Info = pikepdf.String(profile_name)
    else:
        pdfx.OutputConditionIdentifier = pikepdf.String("Custom")
        pdfx.Info = pikepdf.String(
            f"{profile_name}: a stand-in, not a characterised printing condition — replace "
            "it with the printer's profile (production.output_profile, output_condition)")
    twin = pikepdf.Dictionary(dict(pdfx.items()))
    twin.S = pikepdf.Name.GTS_PDFA1
    pdf.Root.OutputIntents = pikepdf.Array([pdfx if pdfx.is_indirect
                                            else pdf.make_indirect(pdfx),
                                            pdf.make_indirect(twin)])


def _images(pdf):
    seen = set()
    for page in pdf.pages:
        for holder in _forms_and_page(page.obj):
            for found in holder.get("/Resources", {}).get("/XObject", {}).values():
                if found.get("/Subtype") == "/Image" and found.objgen not in seen:
                    seen.add(found.objgen)
                    yield found


def _forms_and_page(page):
    """The page, then every form XObject it draws (at any depth), each once."""
    stack, seen = [page], set()
    while stack:
        holder = stack.pop()
        yield holder
        for found in holder.get("/Resources", {}).get("/XObject", {}).values():
            if found.get("/Subtype") == "/Form" and found.objgen not in seen:
                seen.add(found.objgen)
                stack.append(found)

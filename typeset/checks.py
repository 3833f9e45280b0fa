"""Checks of the written PDFs (an edition's `checks` in editions.py; preflight.outputs runs
them): only the fonts book.yaml names, embedded and subset; the press's boxes and output
intent; the screen edition's size budget."""

import functools
import hashlib
import io
import json
import re
from pathlib import Path

import pikepdf
from PIL import Image, ImageCms

from . import files, metadata
from .model import Finding


# The style WeasyPrint appends to a family's name in the PDF (Noto-Serif-Bold-Italic).
STYLE = re.compile(r"(-(Bold|Italic|Oblique|Light|Medium|Semibold|SemiBold|Black|Thin|Heavy))+$")


def fonts(book, path, pdf):
    """Every font is one book.yaml names (else some text fell back), embedded and subset."""
    named = {family.replace(" ", "-") for family in book.design["fonts"].values()}
    findings = []
    for name, embedded, subset in _fonts(pdf):
        family = STYLE.sub("", name.split("+")[-1])
        if family not in named:
            findings.append(Finding("error", "font", f"{path.name}",
                                    f"{family} is used but book.yaml names "
                                    f"{', '.join(sorted(named))} — some text fell back to "
                                    "another font: find it and name a font that has it"))
        if not embedded:
            findings.append(Finding("error", "font", f"{path.name}",
                                    f"font {name} is not embedded — it must be, for print"))
        elif not subset:
            findings.append(Finding("warning", "font", f"{path.name}",
                                    f"font {name} is embedded whole, not subset"))
    return findings


def press_boxes(book, path, pdf):
    """Every page of a press file has its TrimBox and BleedBox."""
    return [Finding("error", "boxes", f"{path.name} page {index + 1}",
                    "no TrimBox or BleedBox — the press needs both")
            for index, page in enumerate(pdf.pages)
            if "/TrimBox" not in page.obj or "/BleedBox" not in page.obj]


def one_sheet(book, path, pdf):
    """The cover spread is one sheet: its content did not run onto a second."""
    if len(pdf.pages) > 1:
        return [Finding("error", "overflow", path.name,
                        f"the cover runs onto {len(pdf.pages)} sheets — shorten the back "
                        "cover's text (title, subtitle, organisers) or lower its type sizes")]
    return []


def output_intent(book, path, pdf):
    """A press file has an output intent."""
    if "/OutputIntents" not in pdf.Root:
        return [Finding("error", "output-intent", path.name,
                        "no output intent — set production.output_profile")]
    return []


def printing_condition(book, path, pdf):
    """The output intent names a characterised printing condition, or is said to be a
    stand-in (once, on the print edition: the cover and the sheets carry the same)."""
    if "/OutputIntents" not in pdf.Root:
        return []
    pdfx = [intent for intent in pdf.Root.OutputIntents if intent.get("/S") == "/GTS_PDFX"]
    if pdfx and str(pdfx[0].get("/OutputConditionIdentifier", "")) == "Custom":
        return [Finding("warning", "output-intent", path.name,
                        f"the output intent is {Path(book.production['output_profile']).name}, "
                        "a stand-in that names no characterised printing condition — get the "
                        "printer's profile and set production.output_profile and "
                        "output_condition (e.g. FOGRA39, FOGRA51, JC200103)")]
    return []


def ink(book, path, pdf):
    """No page of a press file lays more ink than `max_ink` (total area coverage, %): its
    vector colours as drawn, its CMYK photos from their pixels, its RGB photos as the output
    profile converts them at the most (the RIP converts them with it). Printer's marks, in
    registration colour outside the trim, do not count."""
    limit = book.production["max_ink"]
    converted = profile_coverage(book.production["output_profile"])
    findings = []
    for index, page in enumerate(pdf.pages):
        worst, what = _page_coverage(page, converted)
        if worst > limit + 0.5:
            findings.append(Finding(
                "error", "ink", f"{path.name} page {index + 1}",
                f"{what} lays {worst:.0f}% ink, over max_ink ({limit}%) — lower it in the "
                "colour token (rich black only for large areas), or convert the photo with "
                "the printer's profile"))
    return findings


def _page_coverage(page, converted):
    """The most ink the page lays anywhere, and what lays it. Each content stream is read
    once per process (_drawn, keyed by its bytes: a rebuild re-reads only changed pages);
    a form XObject starts from the colour spaces current where it is drawn and, as `Do`
    saves and restores the graphics state, leaves them as they were."""
    worst, what = 0.0, "nothing"
    seen = set()

    def visit(holder, resources, spaces):
        nonlocal worst, what
        colour, described, drawn = _drawn(_content_key(holder), spaces, holder)
        if colour > worst:
            worst, what = colour, described
        for name, inner in drawn:
            found = resources.get("/XObject", {}).get(name)
            if found is None or found.objgen in seen:
                continue
            seen.add(found.objgen)
            if found.get("/Subtype") == "/Form":
                visit(found, found.get("/Resources", resources), inner)
            elif found.get("/Subtype") == "/Image":
                coverage = _image_coverage(found, converted)
                if coverage > worst:
                    worst, what = coverage, "a photo"
    visit(page, page.obj.get("/Resources", {}), (None, None))
    return worst, what


def _content_key(holder):
    """A digest of what a page (metadata.drawing) or a form draws."""
    data = metadata.drawing(holder) if isinstance(holder, pikepdf.Page) else holder.read_bytes()
    return hashlib.blake2b(data, digest_size=16).digest()


_DRAWN = {}


def _drawn(key, spaces, holder):
    """What one content stream draws, from the colour spaces (fill, stroke) it starts with:
    its most ink of any CMYK colour and that colour, and each XObject it draws with the
    colour spaces current there. Kept per (digest, spaces) for the process's next builds."""
    if (key, spaces) in _DRAWN:
        return _DRAWN[key, spaces]
    fill, stroke = spaces
    worst, what, drawn = 0.0, "nothing", []
    for operands, operator in pikepdf.parse_content_stream(holder):
        op = str(operator)
        if op == "cs":
            fill = str(operands[0])
        elif op == "CS":
            stroke = str(operands[0])
        elif op in ("k", "K") or (op in ("sc", "scn", "SC", "SCN") and len(operands) == 4
                                  and (fill if op in ("sc", "scn") else stroke)
                                  == "/DeviceCMYK"):
            coverage = 100 * sum(float(value) for value in operands)
            if coverage > worst:
                worst, what = coverage, "the colour cmyk(" + " ".join(
                    f"{100 * float(value):g}" for value in operands) + ")"
        elif op == "Do":
            drawn.append((str(operands[0]), (fill, stroke)))
    if len(_DRAWN) > 20000:
        _DRAWN.clear()
    _DRAWN[key, spaces] = worst, what, tuple(drawn)
    return _DRAWN[key, spaces]


def _image_coverage(image, converted):
    space = image.get("/ColorSpace")
    if space == "/DeviceCMYK" and image.get("/Filter") == "/DCTDecode":
        return _cmyk_photo_coverage(image.read_raw_bytes())
    if isinstance(space, pikepdf.Array) and space[0] == "/ICCBased" and int(space[1].N) == 3:
        return converted
    return 0.0  # grey: black ink alone, at most 100 %


_PHOTOS = {}


def recall(path):
    """What the ink check read in an earlier process (`remember`): a new process after an
    edit reads again only the pages that changed."""
    if _DRAWN or _PHOTOS:
        return
    try:
        kept = json.loads(Path(path).read_text(encoding="utf-8"))
        for key, (worst, what, drawn) in kept["drawn"].items():
            digest, fill, stroke = key.split("|")
            _DRAWN[bytes.fromhex(digest), (fill or None, stroke or None)] = (
                worst, what, tuple((name, (f or None, s or None)) for name, f, s in drawn))
        _PHOTOS.update({bytes.fromhex(key): value for key, value in kept["photos"].items()})
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or another format
        _DRAWN.clear()
        _PHOTOS.clear()


def remember(path):
    """Keep what the ink check read for the next process (build/.cache/ink.json)."""
    drawn = {f"{digest.hex()}|{fill or ''}|{stroke or ''}": [
        worst, what, [[name, f or "", s or ""] for name, (f, s) in inner]]
        for (digest, (fill, stroke)), (worst, what, inner) in _DRAWN.items()}
    files.write_cache(path, json.dumps(
        {"drawn": drawn, "photos": {key.hex(): value for key, value in _PHOTOS.items()}}))


def _cmyk_photo_coverage(jpeg):
    """The ink a CMYK photo lays at its 99.9th percentile (its pixels decoded at an eighth);
    kept per digest of its data for the process's next builds."""
    key = hashlib.blake2b(jpeg, digest_size=16).digest()
    if key not in _PHOTOS:
        with Image.open(io.BytesIO(jpeg)) as photo:
            photo.draft("CMYK", (photo.width // 8, photo.height // 8))
            pixels = photo.convert("CMYK")
        data = pixels.tobytes()
        sums = sorted(sum(data[i:i + 4]) for i in range(0, len(data), 4))
        _PHOTOS[key] = 100 * sums[int(len(sums) * 0.999) - 1] / 255 if sums else 0.0
    return _PHOTOS[key]


@functools.lru_cache(maxsize=4)
def profile_coverage(profile):
    """The most ink the output profile lays for any RGB colour (a 17-step cube through it)."""
    steps = [round(255 * i / 16) for i in range(17)]
    cube = Image.frombytes("RGB", (17 ** 3, 1), bytes(
        channel for r in steps for g in steps for b in steps for channel in (r, g, b)))
    transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"),
                                        ImageCms.getOpenProfile(str(profile)), "RGB", "CMYK",
                                        ImageCms.Intent.RELATIVE_COLORIMETRIC)
    data = transform.apply(cube).tobytes()
    return 100 * max(sum(data[i:i + 4]) for i in range(0, len(data), 4)) / 255


def screen_budget(book, path, pdf=None):
    """The screen edition is the web file: larger than its budget, it needs smaller photos."""
    size, budget = path.stat().st_size / 1e6, book.production["screen_budget_mb"]
    if size <= budget:
        return []
    production = book.production
    return [Finding("warning", "screen-size", path.name,
                    f"{size:.1f} MB, over the screen edition's budget of {budget:g} MB with its "
                    "photos at the lowest quality the budget may ask for — lower "
                    f"production.screen_dpi ({production['screen_dpi']}) in book.yaml, or raise "
                    "screen_budget_mb")]


def _fonts(pdf):
    """(name, embedded, subset) of every font the PDF's pages use (pikepdf: reading the
    written files with qpdf takes a tenth of pypdf's time)."""
    seen = {}
    for page in pdf.pages:
        fonts_used = page.obj.get("/Resources", {}).get("/Font", {})
        for font in fonts_used.values():
            name = str(font.get("/BaseFont", "?"))
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0] if descendants else font).get("/FontDescriptor")
            descriptor = descriptor if descriptor is not None else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            seen[name] = (name.lstrip("/"), embedded, name[1:8].endswith("+"))
    return sorted(seen.values())

"""Screen-sized photos: each photo of the screen edition downsampled once to the largest size
it is placed at × `screen_dpi`, in the screen's colours.

- Size: the photo's widest placement (engine.facts.Photo: the width the whole photo is drawn
  at) × `screen_dpi`, never more than its own pixels; the pixels stay as stored (the page's
  matrix turns them, engine/photos.py), so the target is turned back too.
- Decoding: a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still covers the
  target (Pillow's `draft`): a 12 MP photo for a 60 mm slot is never decoded whole.
- Colour: CMYK and YCCK through their embedded profile (or the book's output profile) to sRGB
  with LittleCMS; an RGB photo with a profile to sRGB; grey stays grey; a PNG's alpha stays
  (a soft mask). JPEG photos are written as JPEG, PNG ones as Flate.
- Quality: the highest up to `screen_quality` at which the edition fits `screen_budget_mb`
  (fit_quality: estimated from a few photos measured once), at least FLOOR.
- What a cover slot crops away is never seen: it is flattened to one colour, which costs JPEG
  almost nothing, keeping a margin of real pixels around the visible part.
- Cached in build/.cache/screen-images by the photo's content (its SHA-256 from the checks),
  the target and the settings; written atomically; this build's entries only. The copies are
  made in as many processes as there are cores, one photo at a time in each.
"""

import functools
import hashlib
import io
import json
import math
import pickle
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import pikepdf
from PIL import Image, ImageCms, ImageStat

from . import files, forks, images
from .errors import ContentError

CROP_MARGIN = 16  # px of real image kept beyond the visible edge (two JPEG blocks)
VERSION = "2"     # of the recipe below: a change makes every copy again


@dataclass(frozen=True)
class Job:
    """One screen copy to make: the stored-orientation size and the visible window."""

    file: str
    digest: str
    size: tuple       # width, height in stored pixels
    window: tuple     # x0, y0, x1, y1: fractions of the stored image that are seen
    quality: int
    profile: str      # the CMYK profile assumed for a CMYK photo without one
    source: str = ""  # the content file:line that places it (for an error)

    @property
    def name(self):
        key = repr((VERSION, self.digest, self.size, self.window, self.quality, self.profile))
        return hashlib.sha256(key.encode()).hexdigest()[:40] + ".screen"


def placed_sizes(pages, digest):
    """Each photo file → [inches, x0, y0, x1, y1, turn, width, height, sha256, source]: its
    widest drawn width, the union of the parts its slots show (fractions of the photo as
    seen), its EXIF orientation, its pixels as seen, its content's digest (`digest(file)`) and
    the content file:line that places it first."""
    sizes = {}
    for page in pages:
        for photo in page.photos:
            before = sizes.get(photo.file)
            window = photo.window
            if before:
                window = (min(before[1], window[0]), min(before[2], window[1]),
                          max(before[3], window[2]), max(before[4], window[3]))
            sizes[photo.file] = [max(photo.inches, before[0] if before else 0), *window,
                                 photo.turn, *photo.pixels,
                                 before[8] if before else digest(photo.file),
                                 before[9] if before else photo.source or ""]
    return sizes


# Where a stored pixel is seen, per EXIF orientation (engine/photos.py's _SEEN): the window
# seen is turned back into stored fractions by exchanging and mirroring axes.
_STORED = {1: (False, False, False), 2: (False, True, False), 3: (False, True, True),
           4: (False, False, True), 5: (True, False, False), 6: (True, False, True),
           7: (True, True, True), 8: (True, True, False)}


def job(file, placed, dpi, quality, profile):
    """The screen copy of a photo placed as `placed` (placed_sizes)."""
    inches, x0, y0, x1, y1, turn, width, height, digest, source = placed
    wide = min(width, max(1, math.ceil(inches * dpi)))
    high = max(1, round(height * wide / width))
    swap, mirror_x, mirror_y = _STORED[turn]
    # Seen → stored: for 5–8 the seen x axis is the stored y axis.
    if swap:
        (x0, x1, y0, y1), (wide, high) = (y0, y1, x0, x1), (high, wide)
    if mirror_x:
        x0, x1 = 1 - x1, 1 - x0
    if mirror_y:
        y0, y1 = 1 - y1, 1 - y0
    return Job(file, digest, (wide, high), (x0, y0, x1, y1), quality, profile, source)


def make(job):
    """The screen copy: (PDF image dictionary entries, size, data, soft mask data or None).
    A photo that cannot be decoded raises images.Unusable."""
    return _encoded(*_resized(job, with_mask=True), job.quality)


def _encoded(photo, mask, source_format, quality):
    space = "/DeviceGray" if photo.mode == "L" else "/DeviceRGB"
    if source_format in ("JPEG", "MPO"):
        buffer = io.BytesIO()
        photo.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
        entries = {"/Filter": "/DCTDecode", "/ColorSpace": space}
        data = buffer.getvalue()
    else:
        entries = {"/Filter": "/FlateDecode", "/ColorSpace": space}
        data = zlib.compress(photo.tobytes(), 9)
    if mask is not None:
        mask = zlib.compress(mask.tobytes(), 9)
    return entries, photo.size, data, mask


def _resized(job, with_mask=False):
    """The photo decoded (a JPEG at the smallest DCT scale that covers the target), sized,
    in screen colours, flattened outside its window; with its alpha and format when asked."""
    try:
        with images.strict_decoding(), Image.open(job.file) as original:
            source_format = original.format
            icc = original.info.get("icc_profile")
            if source_format in ("JPEG", "MPO"):
                original.draft(original.mode, job.size)
            photo = _decoded(original)
    except (OSError, SyntaxError, ValueError) as error:  # damage past the headers
        raise images.Unusable(f"is damaged ({error})", "replace it with the original photo")
    mask = None
    if photo.mode in ("RGBA", "LA"):
        mask = photo.getchannel("A")
        photo = photo.convert(photo.mode[:-1])
    if photo.size != job.size:
        photo = photo.resize(job.size, Image.BICUBIC)
        mask = mask.resize(job.size, Image.BICUBIC) if mask is not None else None
    photo = _in_screen_colours(photo, icc, job.profile)  # on the small copy: a fraction of
    _flatten_outside(photo, job.window)                  # the pixels to transform
    return (photo, mask, source_format) if with_mask else photo


_SRGB = ImageCms.createProfile("sRGB")
_TRANSFORMS = {}


def _decoded(image):
    """The decoded pixels in a mode the screen keeps: RGB(A), L(A) or CMYK; 16 bits → 8."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.convert("I").point(lambda value: value / 257).convert("L")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode == "1":
        return image.convert("L")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        image.load()
        return image
    return image.convert("RGB")


def _in_screen_colours(image, icc, cmyk_profile):
    """The image in sRGB (grey stays grey): CMYK through its profile or the book's output
    profile, RGB through its profile unless that is sRGB."""
    if image.mode == "CMYK":
        source = icc or Path(cmyk_profile).read_bytes()
        return _transform(source, "CMYK").apply(image)
    if image.mode == "RGB" and icc and not _is_srgb(icc):
        return _transform(icc, "RGB").apply(image)
    return image


@functools.lru_cache(maxsize=32)
def _is_srgb(icc):
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb")


def _transform(profile, mode):
    key = (hashlib.sha256(profile).digest(), mode)
    if key not in _TRANSFORMS:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        _TRANSFORMS[key] = ImageCms.buildTransform(source, _SRGB, mode, "RGB")
    return _TRANSFORMS[key]


def _flatten_outside(photo, window):
    """Paint what lies outside the visible window (fractions of the stored image) with the
    visible part's mean colour."""
    width, height = photo.size
    x0, y0, x1, y1 = window
    box = (max(0, math.floor(x0 * width) - CROP_MARGIN), max(0, math.floor(y0 * height)
                                                              - CROP_MARGIN),
           min(width, math.ceil(x1 * width) + CROP_MARGIN),
           min(height, math.ceil(y1 * height) + CROP_MARGIN))
    if box == (0, 0, width, height):
        return
    kept = photo.crop(box)
    mean = tuple(round(value) for value in ImageStat.Stat(kept.reduce(8)).mean)
    photo.paste(mean if len(mean) > 1 else mean[0], (0, 0, width, height))
    photo.paste(kept, box[:2])


def prepare(jobs, cache_dir, book=None):
    """Make the copies the cache lacks, in as many processes as there are cores. A photo that
    cannot be decoded is a ContentError at the content line that places it."""
    cache_dir = Path(cache_dir)
    missing = sorted({job for job in jobs if not (cache_dir / job.name).is_file()},
                     key=lambda job: job.file)
    groups = [missing[start::forks.jobs()] for start in range(min(forks.jobs(), len(missing)))]

    def made(group):
        def task():
            for one in group:
                try:
                    copy = make(one)
                except images.Unusable as problem:
                    raise _content_error(one, problem, book)
                files.write_cache(cache_dir / one.name,
                                  pickle.dumps(copy, pickle.HIGHEST_PROTOCOL))
        return task

    forks.run({f"screen photos {number}": made(group) for number, group in enumerate(groups)})
    files.forget_others(cache_dir, "*.screen", {one.name for one in jobs})


def _content_error(one, problem, book):
    name, _, line = one.source.rpartition(":")
    file = Path(one.file)
    shown = f"images/{file.relative_to(book.images)}" if book else file.name
    return ContentError(book.catalogue / name if book else name, int(line or 0),
                        f"{shown} {problem.message}", problem.hint)


def downsample(pdf, book, placed, cache_dir, rest=0):
    """Every photo of the screen edition (a pikepdf.Pdf) replaced by its screen copy (placed:
    manifest.placed); the engine's stand-in keys removed. The copies' JPEG quality is the
    highest up to `screen_quality` at which they fit the screen budget with the `rest` of the
    file (fit_quality). Returns that quality."""
    production = book.production
    images = list(_images(pdf))
    jobs = {}
    for image in images:
        file = str(image.TypesetSource)
        if file in placed:
            jobs[image.objgen] = job(file, placed[file], production["screen_dpi"],
                                  production["screen_quality"], production["output_profile"])
    allowance = production["screen_budget_mb"] * 1e6 - rest
    quality = fit_quality(jobs.values(), allowance, production["screen_quality"], cache_dir,
                          book)
    jobs = {key: replace(one, quality=quality) for key, one in jobs.items()}
    prepare(jobs.values(), cache_dir, book)
    for image in images:
        for key in ("/TypesetSource", "/TypesetPassThrough", "/TypesetVersion"):
            if key in image:
                del image[key]
        if image.objgen in jobs:
            _replace(pdf, image, Path(cache_dir) / jobs[image.objgen].name)
    return quality


FLOOR = 40              # the lowest quality the budget may ask for
GRID = (90, 75, 60, 50, 40)  # qualities the size model is measured at
SAMPLE = 8              # photos measured


def fit_quality(jobs, allowance, cap, cache_dir, book=None):
    """The highest JPEG quality ≤ `cap` (and ≥ FLOOR) at which the JPEG copies are estimated to
    take at most `allowance` bytes. The estimate: bytes per visible pixel at each quality of
    GRID, measured on a few of the photos (every n-th, by name: the same ones every build)
    and kept in the cache by the set of photos, so a rebuild measures nothing."""
    jpegs = sorted((one for one in jobs if one.file.lower().endswith((".jpg", ".jpeg"))),
                   key=lambda one: one.name)
    if not jpegs:
        return cap
    seen = sum(_visible(one) for one in jpegs)
    key = hashlib.sha256(repr([(one.digest, one.size, one.window) for one in jpegs]).encode())
    kept = Path(cache_dir) / f"{key.hexdigest()[:40]}.model"
    try:
        model = {int(q): value for q, value in json.loads(kept.read_text()).items()}
    except (OSError, ValueError):
        model = _measure(jpegs[::max(1, math.ceil(len(jpegs) / SAMPLE))], book)
        files.write_cache(kept, json.dumps(model))
    for quality in range(cap, FLOOR - 1, -1):
        if _per_pixel(model, quality) * seen <= allowance:
            return quality
    return FLOOR


def _visible(one):
    x0, y0, x1, y1 = one.window
    return one.size[0] * one.size[1] * (x1 - x0) * (y1 - y0)


def _measure(sample, book=None):
    """Bytes per visible pixel at each quality of GRID, over `sample` (shared among as many
    processes as there are cores, one photo decoded at a time in each)."""
    jobs = min(forks.jobs(), len(sample))

    def sizes(group):
        def task():
            found = dict.fromkeys(GRID, 0)
            for one in group:
                try:
                    photo = _resized(one)
                except images.Unusable as problem:
                    raise _content_error(one, problem, book)
                for quality in GRID:
                    buffer = io.BytesIO()
                    photo.save(buffer, "JPEG", quality=quality, optimize=True,
                               progressive=True)
                    found[quality] += len(buffer.getvalue())
            return found
        return task

    measured = forks.run({f"measure {start}": sizes(sample[start::jobs])
                          for start in range(jobs)}).values()
    seen = sum(_visible(one) for one in sample)
    return {quality: sum(found[quality] for found in measured) / seen for quality in GRID}


def _per_pixel(model, quality):
    """The model's bytes per visible pixel at `quality`, between its measured qualities."""
    grid = sorted(model)
    if quality <= grid[0]:
        return model[grid[0]]
    for low, high in zip(grid, grid[1:]):
        if quality <= high:
            return model[low] + (model[high] - model[low]) * (quality - low) / (high - low)
    return model[grid[-1]]


def _images(pdf):
    """The image XObjects drawn from files, on the pages and in the forms they draw, once."""
    seen = set()

    def visit(resources):
        for found in (resources or {}).get("/XObject", {}).values():
            if found.objgen in seen:
                continue
            seen.add(found.objgen)
            if found.get("/Subtype") == "/Image" and "/TypesetSource" in found:
                yield found
            elif found.get("/Subtype") == "/Form":
                yield from visit(found.get("/Resources"))

    for page in pdf.pages:
        yield from visit(page.obj.get("/Resources"))


def _replace(pdf, image, cached):
    entries, (width, height), data, mask = pickle.loads(cached.read_bytes())
    for key in ("/Decode", "/DecodeParms", "/SMask"):
        if key in image:
            del image[key]
    image.write(data, filter=pikepdf.Name(entries["/Filter"]))
    for key, value in entries.items():
        image[key] = pikepdf.Name(value)
    image.Width, image.Height, image.BitsPerComponent = width, height, 8
    if mask is not None:
        soft = pikepdf.Stream(pdf, b"")
        soft.write(mask, filter=pikepdf.Name.FlateDecode)
        soft.Type, soft.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        soft.Width, soft.Height, soft.BitsPerComponent = width, height, 8
        soft.ColorSpace = pikepdf.Name.DeviceGray
        image.SMask = pdf.make_indirect(soft)

"""Realistic sample images for the tests and the benchmark (`make bench`): files like those a
camera, a scanner or a designer's export delivers, so the pipeline is tested with real inputs
rather than placeholders. Pure Python and Pillow, and deterministic: the same arguments give
the same bytes (a seeded RNG; no clock: EXIF dates come from the seed, the ICC header's date
is fixed).

Kinds: camera JPEGs (EXIF, sRGB ICC profile, any EXIF orientation, ~3 MB at 4000×3000), CMYK
and YCCK JPEGs, a greyscale letter scan, 16-bit PNGs (written by hand: Pillow cannot write
16-bit RGB), palette, RGBA and RGB PNGs, and a PNG misnamed .jpg.

Orientation convention: `size` is always the UPRIGHT (displayed) size. The upright scene has
a distinct colour in each quadrant (UPRIGHT_QUADRANTS); the pixels are stored as a camera held
sideways stores them, i.e. with the inverse of the EXIF transform applied, so a correct
viewer (`ImageOps.exif_transpose`) shows the upright scene. For orientations 5–8 the stored
array is transposed (height × width). `quadrant_colours` and `is_upright` check a rendering.
"""

import datetime
import functools
import io
import random
import struct
import zlib
from pathlib import Path

from PIL import (Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageFont, ImageMath,
                 ImageStat)
from PIL.TiffImagePlugin import IFDRational

# The upright scene's quadrant colours before shading and texture: a quadrant's mean is about
# 0.7–1.0 times its colour (shading, darker patches), so compare hues (is_upright), not values.
UPRIGHT_QUADRANTS = {"top-left": (200, 60, 50), "top-right": (60, 170, 70),
                     "bottom-left": (50, 80, 190), "bottom-right": (220, 200, 60)}
# The ink of cmyk_jpeg and ycck_jpeg (0–255 each, as Pillow decodes it) and its colour after
# Pillow's convert("RGB") (R = (255-C)(255-K)/255, …): a mean within ~2 levels of CMYK_RGB.
CMYK_INK = (51, 153, 204, 26)
CMYK_RGB = (183, 92, 46)
# The 16-bit PNGs' means: in 16-bit units, and 8-bit as Pillow decodes RGB (the high byte;
# within 0.5 level). Pillow opens the grey one as I;16: divide by 257 for 8 bits.
PNG16_RGB = (200 * 257, 120 * 257, 60 * 257)
PNG16_RGB_8BIT = (200, 120, 60)
PNG16_GREY = 118 * 257
PNG16_GREY_8BIT = 118

_QUADRANTS = {"top-left": (0, 0), "top-right": (1, 0), "bottom-left": (0, 1),
              "bottom-right": (1, 1)}
# Stored pixels = this transpose of the upright scene (the inverse of what exif_transpose does).
_TO_STORED = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_270}
# JFIF's RGB → YCbCr, as libjpeg inverts it (Pillow's convert("YCbCr") truncates: ~2 levels off).
_TO_YCC = (0.299, 0.587, 0.114, 0, -0.168736, -0.331264, 0.5, 128,
           0.5, -0.418688, -0.081312, 128)


def _noise(size, rng, amplitude, scale=1):
    """Uniform noise centred on 128 (±amplitude), as an L image of `size`; scale > 1 makes
    it coarser (drawn at 1/scale and smoothly enlarged)."""
    w, h = max(1, size[0] // scale), max(1, size[1] // scale)
    lut = [128 + round((v - 127.5) * amplitude / 127.5) for v in range(256)]
    im = Image.frombytes("L", (w, h), rng.randbytes(w * h)).point(lut)
    return im if (w, h) == tuple(size) else im.resize(size, Image.Resampling.BICUBIC)


def _save(image, path, format, **options):
    """`image` written to `path` (a Path, returned)."""
    image.save(path := Path(path), format, **options)
    return path


def _write(path, data):
    (path := Path(path)).write_bytes(data)
    return path


@functools.cache
def _srgb_icc():
    """The sRGB profile's bytes, with lcms's creation date (the clock) fixed."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = struct.pack(">6H", 2023, 1, 1, 0, 0, 0)
    return bytes(data)


def scene(size, seed=0):
    """The upright photo-like scene: soft quadrant colours under shading, blurred shapes,
    coarse and medium texture and fine sensor grain (bytes and look like a photo's)."""
    rng, (w, h) = random.Random(seed), size
    lw, lh = max(8, w // 16), max(8, h // 16)
    base = Image.new("RGB", (lw, lh))
    draw = ImageDraw.Draw(base)
    for name, (fx, fy) in _QUADRANTS.items():
        draw.rectangle((fx * lw // 2, fy * lh // 2, (fx + 1) * lw // 2, (fy + 1) * lh // 2),
                       fill=tuple(c + rng.randint(-8, 8) for c in UPRIGHT_QUADRANTS[name]))
    for _ in range(40):  # objects: lighter and darker patches in the local colour
        x, y, r = rng.uniform(0, lw), rng.uniform(0, lh), rng.uniform(lw / 40, lw / 10)
        colour = base.getpixel((min(int(x), lw - 1), min(int(y), lh - 1)))
        f = rng.uniform(0.6, 1.3)
        draw.ellipse((x - r, y - r * rng.uniform(0.5, 1.5), x + r, y + r),
                     fill=tuple(min(255, int(c * f)) for c in colour))
    base = base.filter(ImageFilter.GaussianBlur(max(1, lw / 200)))
    light = Image.radial_gradient("L").resize((lw, lh)).point(lambda v: 255 - v * 40 // 255)
    base = ImageChops.multiply(base, Image.merge("RGB", (light,) * 3))
    image = base.resize(size, Image.Resampling.BICUBIC)
    texture = _noise(size, rng, 40, 24)  # ±40 blotches, ±24 fine detail, ±6 sensor grain
    for amplitude, scale in ((24, 3), (6, 1)):
        texture = ImageChops.add(texture, _noise(size, rng, amplitude, scale), 1.0, -128)
    return ImageChops.add(image, Image.merge("RGB", (texture,) * 3), 1.0, -128)


def quadrant_colours(image):
    """Mean RGB of the middle of each quadrant of `image` (as displayed: transpose first),
    keyed like UPRIGHT_QUADRANTS."""
    image, (w, h) = image.convert("RGB"), image.size
    return {name: tuple(round(v) for v in ImageStat.Stat(image.crop((
        w * (4 * fx + 1) // 8, h * (4 * fy + 1) // 8, w * (4 * fx + 3) // 8,
        h * (4 * fy + 3) // 8))).mean) for name, (fx, fy) in _QUADRANTS.items()}


def is_upright(image):
    """Whether each quadrant's mean of `image` is nearest in hue (colour / its sum: shading
    does not count) to that quadrant's UPRIGHT_QUADRANTS colour."""
    def distance(colour, name):
        reference = UPRIGHT_QUADRANTS[name]
        return sum((a / max(1, sum(colour)) - b / sum(reference)) ** 2
                   for a, b in zip(colour, reference))
    return all(min(UPRIGHT_QUADRANTS, key=lambda n: distance(colour, n)) == name
               for name, colour in quadrant_colours(image).items())


def _exif(make, model, orientation, stored_size, seed):
    """EXIF as a camera writes it: IFD0 (make, model, orientation, dates) and the Exif IFD."""
    when = datetime.datetime(2023, 6, 1, 9, 0) + datetime.timedelta(seconds=137 * seed)
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    exif = Image.Exif()
    exif.update({0x010F: make, 0x0110: model, 0x0112: orientation, 0x011A: IFDRational(72),
                 0x011B: IFDRational(72), 0x0128: 2, 0x0132: stamp, 0x0213: 2})
    exif.get_ifd(0x8769).update({
        0x829A: IFDRational(1, 125), 0x829D: IFDRational(56, 10), 0x8827: 400,
        0x9000: b"0231", 0x9003: stamp, 0x9004: stamp, 0x920A: IFDRational(50),
        0xA001: 1, 0xA002: stored_size[0], 0xA003: stored_size[1]})
    return exif.tobytes()


def camera_jpeg(path, size=(4000, 3000), quality=90, seed=0, orientation=1, progressive=False,
                icc=True, make="Canon", model="EOS 5D Mark IV"):
    """An RGB JPEG as a camera writes it (EXIF, sRGB profile): `size` is the upright size,
    the pixels are stored rotated/flipped for `orientation` (1–8; see the module docstring)."""
    image = scene(size, seed)
    if orientation != 1:
        image = image.transpose(_TO_STORED[orientation])
    options = {"icc_profile": _srgb_icc()} if icc else {}
    return _save(image, path, "JPEG", quality=quality, progressive=progressive,
                 optimize=progressive, exif=_exif(make, model, orientation, image.size, seed),
                 **options)


def _cmyk_image(size, seed):
    """CMYK_INK with a mild zero-mean texture on every channel."""
    rng = random.Random(seed)
    texture = ImageChops.add(_noise(size, rng, 16, 16), _noise(size, rng, 8), 1.0, -128)
    flat = [Image.new("L", size, v) for v in CMYK_INK]
    return Image.merge("CMYK", [ImageChops.add(b, texture, 1.0, -128) for b in flat])


def _jpeg_app14(image, transform):
    """`image` as JPEG bytes (quality 90) with the Adobe APP14 segment's transform flag (byte
    15 of the 16-byte segment) set to `transform`, or the segment removed (None)."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    at = data.index(b"\xff\xee\x00\x0eAdobe")
    return data[:at] + (b"" if transform is None else data[at:at + 15] + bytes([transform])) \
        + data[at + 16:]


def cmyk_jpeg(path, size=(1600, 1200), seed=0, adobe=True):
    """A CMYK JPEG of CMYK_INK (≈ CMYK_RGB). adobe=True: as Photoshop writes it, inverted
    with an APP14 marker. adobe=False: straight CMYK, no APP14 (the other convention; note that
    Pillow always assumes Adobe's and so decodes such a file inverted)."""
    image = _cmyk_image(size, seed)
    if adobe:
        return _write(path, _jpeg_app14(image, 0))
    # Pillow inverts what it writes: pre-invert so the straight values land in the file.
    return _write(path, _jpeg_app14(ImageChops.invert(image), None))


def ycck_jpeg(path, size=(1600, 1200), seed=0):
    """A YCCK JPEG (Adobe APP14 transform 2) of the same content as cmyk_jpeg: Pillow cannot
    write one, so Y, Cb, Cr of the C, M, Y channels (as R, G, B) and K go in a "CMYK" JPEG
    whose APP14 transform byte is then set to 2. Decodes (mode CMYK) to ≈ CMYK_INK."""
    c, m, y, k = _cmyk_image(size, seed).split()
    ycc = Image.merge("RGB", (c, m, y)).convert("RGB", _TO_YCC).split()  # rounds: no bias
    # Pillow inverts on writing; libjpeg's YCCK decode gives 255 - R, which Pillow inverts.
    four = Image.merge("CMYK", [ImageChops.invert(b) for b in ycc] + [k])
    return _write(path, _jpeg_app14(four, 2))


def grey_jpeg(path, size=(2400, 3200), seed=0):
    """An 8-bit greyscale JPEG like a 300 dpi letter scan: light, unevenly lit paper with
    lines of dark text, slightly soft, with scanner noise."""
    rng, (w, h) = random.Random(seed), size
    page = Image.linear_gradient("L").resize(size).point(lambda v: 246 - v * 14 // 255)
    draw = ImageDraw.Draw(page)
    em = max(8, w // 52)
    font = ImageFont.load_default(size=em)
    margin, y = w // 9, h // 10
    while y < h - h // 10:
        if rng.random() < 0.12:  # paragraph break
            y += em
        words = (("".join(rng.choice("etaoinshrdlucmfwypvbgk") for _ in range(rng.randint(1, 9))))
                 for _ in range(rng.randint(4, 12) if rng.random() < 0.15 else 40))
        line = ""
        for word in words:
            if draw.textlength(line + word, font=font) > w - 2 * margin:
                break
            line += word + " "
        draw.text((margin, y), line, fill=rng.randint(25, 50), font=font)
        y += int(em * 1.45)
    page = ImageChops.add(page.filter(ImageFilter.GaussianBlur(0.7)), _noise(size, rng, 10),
                          1.0, -128)
    return _save(page, path, "JPEG", quality=85, dpi=(300, 300))


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png16(path, size=(1200, 900), mode="RGB", seed=0):
    """A 16-bit PNG (mode "RGB": colour type 2, "L": grey), written by hand. Smooth 16-bit
    gradients plus fine noise below one 8-bit level, with means PNG16_RGB / PNG16_GREY (Pillow
    decodes RGB to 8 bits by the high byte: means ≈ PNG16_RGB_8BIT; grey opens as I;16)."""
    if mode not in ("RGB", "L"):
        raise ValueError(f"png16: mode {mode!r} is not RGB or L")
    rng, (w, h) = random.Random(seed), size
    ramp = Image.linear_gradient("L").convert("F").resize(size, Image.Resampling.BILINEAR)
    ramps = [ramp, ramp.transpose(Image.Transpose.ROTATE_180),
             ramp.resize((h, w)).transpose(Image.Transpose.ROTATE_90)]
    means = PNG16_RGB if mode == "RGB" else (PNG16_GREY,)
    channels = []
    for i, mean in enumerate(means):
        slope = min(mean, 65535 - mean) * 0.9 / 127.5  # the ramp stays inside 0–65535
        values = ImageMath.lambda_eval(  # noise: ±2, 1/128 of an 8-bit level
            lambda a: (a["r"] - 127.5) * slope + (a["n"] - 128) / 64 + mean,
            r=ramps[i], n=_noise(size, rng, 127).convert("F"))
        channels.append(values.convert("I").tobytes("raw", "I;16B"))
    samples = bytearray(w * h * 2 * len(channels))
    step = 2 * len(channels)
    for i, data in enumerate(channels):
        samples[2 * i::step], samples[2 * i + 1::step] = data[0::2], data[1::2]
    row = w * step
    raw = b"".join(b"\x00" + samples[y * row:(y + 1) * row] for y in range(h))
    header = struct.pack(">IIBBBBB", w, h, 16, 2 if mode == "RGB" else 0, 0, 0, 0)
    return _write(path, b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                  + _png_chunk(b"IDAT", zlib.compress(raw, 6)) + _png_chunk(b"IEND", b""))


def palette_png(path, size=(600, 400), seed=0):
    """A palette (mode P) PNG like an exported chart: white ground, grid, axis, bars."""
    rng, (w, h) = random.Random(seed), size
    image = Image.new("P", size, 0)
    image.putpalette([255, 255, 255, 40, 40, 40, 210, 210, 210, 31, 119, 180,  # ground, ink,
                      255, 127, 14, 44, 160, 44, 214, 39, 40, 148, 103, 189])  # grid, bars
    draw = ImageDraw.Draw(image)
    left, bottom = w // 10, h - h // 10
    for y in range(bottom, h // 10, -max(4, h // 8)):
        draw.line((left, y, w - w // 20, y), fill=2)
    bars = rng.randint(5, 12)
    step = (w - left - w // 20) / bars
    for i in range(bars):
        top = rng.randint(h // 8, bottom - 4)
        draw.rectangle((left + i * step + step / 6, top, left + (i + 1) * step - step / 6,
                        bottom), fill=3 + i % 5)
    draw.line((left, h // 20, left, bottom, w - w // 20, bottom), fill=1, width=max(1, w // 300))
    return _save(image, path, "PNG")


def rgba_png(path, size=(800, 800), seed=0):
    """An RGBA PNG of a QR-like symbol: black and white modules (three finder patterns,
    timing lines, random data) on a transparent background."""
    rng, n = random.Random(seed), 33  # a version-4 symbol: 33 × 33 modules
    dark = bytes(0 if ((x + y) % 2 == 0 if 6 in (x, y) else rng.random() < 0.5) else 255
                 for y in range(n) for x in range(n))
    symbol = Image.frombytes("L", (n, n), dark).convert("RGBA")
    draw = ImageDraw.Draw(symbol)
    for x, y in ((0, 0), (n - 7, 0), (0, n - 7)):  # finder patterns: rings 9, 7, 5, 3 wide
        for inset in range(-1, 3):
            draw.rectangle((x + inset, y + inset, x + 6 - inset, y + 6 - inset),
                           fill=(255 * (inset % 2 == 1 or inset < 0),) * 3 + (255,))
    module = max(1, min(size) // (n + 8))  # a quiet zone of four modules each side
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(symbol.resize((n * module,) * 2, Image.Resampling.NEAREST),
                ((size[0] - n * module) // 2, (size[1] - n * module) // 2))
    return _save(image, path, "PNG")


def _illustration(size, seed):
    """A flat-coloured drawing: gradient ground, soft shapes, thin lines."""
    rng, (w, h) = random.Random(seed), size
    ground = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (ground.point(lambda v: 230 - v // 4), ground.point(
        lambda v: 235 - v // 8), Image.new("L", size, 245)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(w / 20, w / 5)
        colour = tuple(rng.randint(30, 230) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.polygon([(x + rng.uniform(-r, r), y + rng.uniform(-r, r)) for _ in range(5)],
                         fill=colour)
    for _ in range(20):
        draw.line([(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(2)],
                  fill=(40, 40, 40), width=max(1, w // 400))
    return image


def rgb_png(path, size=(1200, 800), seed=0):
    """An RGB PNG like an exported illustration or diagram (flat colours, lines)."""
    return _save(_illustration(size, seed), path, "PNG")


def misnamed(path_jpg, seed=0):
    """PNG bytes in a file named .jpg: the "name says JPEG, holds a PNG" case."""
    return _save(_illustration((640, 480), seed), path_jpg, "PNG")


def camera_set(folder, count=150, size=(4000, 3000), seed=0):
    """`count` camera JPEGs (IMG_0001.jpg …; quality 90, stored `size`) in `folder`, for the
    benchmark: a seed each; i % 25 == 7 and 19 held portrait (orientation 6 and 8: upright
    size transposed, stored pixels still `size`); the fourth progressive. A file already there
    with the stored size is kept, whatever its seed (a cache between runs)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i + 1:04d}.jpg"
        paths.append(path)
        try:
            with Image.open(path) as existing:
                if existing.size == tuple(size):
                    continue
        except OSError:
            pass  # missing, or not an image: write it
        orientation = {7: 6, 19: 8}.get(i % 25, 1)
        upright = tuple(size) if orientation == 1 else (size[1], size[0])
        part = camera_jpeg(path.with_suffix(".part"), upright, quality=90, progressive=i == 3,
                           seed=seed * 100003 + i, orientation=orientation)
        part.replace(path)  # whole or absent: an interrupted run leaves no truncated file
    return paths


def fill(catalogue, size=(4000, 3000)):
    """A camera JPEG (or, for a .png, an illustration) at every image path the book's content
    names that has no file yet — so a book can be built and looked at with photos in their
    slots before the real ones arrive. Files that are there are never touched. Returns the
    paths written."""
    from . import content, kinds
    book = content.load(Path(catalogue))
    written = []
    for block in book.blocks():
        for name in kinds.images_of(block):
            path = book.images.joinpath(*name.split("/")[1:])
            if path.exists() or path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            seed = zlib.crc32(name.encode()) % 100003  # EXIF dates stay within a year
            part = path.with_name(path.name + ".part")
            if path.suffix.lower() == ".png":
                _save(_illustration((1600, 1200), seed), part, "PNG")
            else:
                camera_jpeg(part, size, quality=90, seed=seed)
            part.replace(path)
            written.append(path)
    return written


if __name__ == "__main__":  # make photos [BOOK=…]
    import sys
    for path in fill(sys.argv[1] if len(sys.argv) > 1 else "catalogue"):
        print(path)

"""Colour by edition: each colour token for the press (CMYK) and for the screen (RGB).

A token in book.yaml's `design.colours` gives both (`{print: cmyk(0 95 80 30), screen:
"#9e1b22"}`) or one of them, the other derived once through the output profile (LittleCMS,
relative colorimetric with black-point compensation). A neutral colour derived for the press
is black ink alone, at the tint that matches its lightness: text and hairlines never stand on
four plates in register (a rich black, where a design wants one, is written out as a token).

The layout is drawn with the screen colours; each edition's drawing maps every colour through
its `palette` (engine/colours.py applies it): the press gets the tokens' CMYK and any other
colour converted the same way (white is no ink, black is K 100), the screen the tokens' RGB.
"""

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms
from tinycss2 import color4, color5

CMYK_TOKEN = re.compile(r"\s*cmyk\(\s*([\d.]+)%?[\s,]+([\d.]+)%?[\s,]+([\d.]+)%?[\s,]+([\d.]+)%?"
                        r"\s*\)\s*")
NEUTRAL = 6 / 255  # a colour whose channels differ by no more than this is grey


@dataclass(frozen=True)
class Swatch:
    """A colour token for both editions; `derived` says which side the profile made."""

    name: str
    screen: tuple  # r, g, b in 0…1
    press: tuple   # c, m, y, k in 0…1
    derived: str = ""

    @property
    def css(self):
        return "#" + "".join(f"{round(value * 255):02x}" for value in self.screen)

    @property
    def cmyk(self):
        """As written in a token: cmyk(c m y k), in percent."""
        return "cmyk(" + " ".join(f"{round(value * 100, 1):g}" for value in self.press) + ")"


def parse(value):
    """A token's colour: ("press", (c, m, y, k)) or ("screen", (r, g, b)), or None."""
    found = CMYK_TOKEN.fullmatch(str(value))
    if found:
        return "press", tuple(float(part) / 100 for part in found.groups())
    colour = color5.parse_color(str(value))
    if not isinstance(colour, color4.Color):
        return None
    if colour.space == "device-cmyk":
        return "press", tuple(colour.coordinates)
    if colour.alpha < 1:
        return None
    return "screen", tuple(colour.to("srgb").coordinates)


def swatches(book):
    """Every colour token of the book, both sides known."""
    convert = converter(book.production["output_profile"])
    found = []
    for name, value in book.design["colours"].items():
        given = dict(parse(part) for part in (value.values() if isinstance(value, dict)
                                              else [value]))
        if "press" not in given:
            found.append(Swatch(name, given["screen"], convert.to_press(given["screen"]),
                                "press"))
        elif "screen" not in given:
            found.append(Swatch(name, convert.to_screen(given["press"]), given["press"],
                                "screen"))
        else:
            found.append(Swatch(name, given["screen"], given["press"]))
    return found


def palette(book, edition):
    """The colour map of an edition's drawing: a function from a drawn colour to the colour
    written (None: as drawn)."""
    if edition != "press":
        return None
    convert = converter(book.production["output_profile"])
    tokens = {_key(swatch.screen): swatch.press for swatch in swatches(book)}

    def mapped(colour):
        if colour.space == "device-cmyk":
            return colour
        rgb = tuple(min(1.0, max(0.0, value or 0.0)) for value in colour.to("srgb").coordinates)
        cmyk = tokens.get(_key(rgb)) or convert.to_press(rgb)
        return color5.Color("device-cmyk", cmyk, colour.alpha)
    return mapped


def _key(rgb):
    return tuple(round(value * 255) for value in rgb)


class Converter:
    """sRGB ↔ the press's CMYK through its profile; neutrals to black ink alone."""

    def __init__(self, profile):
        self.profile = ImageCms.getOpenProfile(str(profile))
        srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
        flags = ImageCms.Flags.BLACKPOINTCOMPENSATION
        intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
        self._to_press = ImageCms.buildTransform(srgb, self.profile, "RGB", "CMYK", intent,
                                                 flags)
        self._to_screen = ImageCms.buildTransform(self.profile, srgb, "CMYK", "RGB", intent,
                                                  flags)
        self._rgb_lab = ImageCms.buildTransform(srgb, lab, "RGB", "LAB", intent)
        # The lightness of every tint of black ink alone on this press.
        ramp = Image.frombytes("CMYK", (256, 1), bytes(b for k in range(256)
                                                       for b in (0, 0, 0, k)))
        lab_ramp = ImageCms.buildTransform(self.profile, lab, "CMYK", "LAB", intent)
        self._black = [lab_ramp.apply(ramp).getpixel((k, 0))[0] for k in range(256)]
        self.cache = {}

    def to_press(self, rgb):
        key = ("press", _key(rgb))
        if key not in self.cache:
            if max(rgb) - min(rgb) <= NEUTRAL:
                self.cache[key] = (0.0, 0.0, 0.0, self._black_for(rgb))
            else:
                pixel = Image.new("RGB", (1, 1), _key(rgb))
                cmyk = self._to_press.apply(pixel).getpixel((0, 0))
                self.cache[key] = tuple(round(value / 255, 3) for value in cmyk)
        return self.cache[key]

    def to_screen(self, cmyk):
        key = ("screen", tuple(round(value * 255) for value in cmyk))
        if key not in self.cache:
            pixel = Image.new("CMYK", (1, 1), key[1])
            rgb = self._to_screen.apply(pixel).getpixel((0, 0))
            self.cache[key] = tuple(value / 255 for value in rgb)
        return self.cache[key]

    def _black_for(self, rgb):
        """The tint of black ink alone whose lightness is the grey's."""
        if min(rgb) >= 1 - NEUTRAL:
            return 0.0  # paper
        lightness = self._rgb_lab.apply(Image.new("RGB", (1, 1), _key(rgb))).getpixel((0, 0))[0]
        k = min(range(256), key=lambda tint: abs(self._black[tint] - lightness))
        return round(k / 255, 2)


@functools.lru_cache(maxsize=4)
def converter(profile):
    """One converter per profile file per process (building LittleCMS transforms takes a
    tenth of a second)."""
    return Converter(Path(profile))


def profile_space(path):
    """The colour space an ICC profile's header declares ('CMYK', 'RGB ', 'GRAY' …)."""
    with open(path, "rb") as file:
        header = file.read(20)
    return header[16:20].decode("latin-1")


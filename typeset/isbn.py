"""The ISBN: validated (python-stdnum), printed hyphenated, drawn as an EAN-13 barcode.

The ISBN arrives late and changes, so it is never part of the book's layout: the colophon
reserves a box, and the post-process stamps the ISBN and its barcode into it.
"""

import io
import re
from dataclasses import dataclass

import barcode
from barcode.writer import SVGWriter
from stdnum import ean, isbn as stdnum_isbn
from stdnum.exceptions import ValidationError

# EAN-13 at 100% magnification: 0.33 mm modules, bars 22.85 mm high, quiet zones of 11 and 7
# modules: with the digits under the bars, the nominal 37.29 × 25.93 mm symbol.
MODULE_MM = 0.33
BAR_HEIGHT_MM = 22.85
QUIET_LEFT_MM, QUIET_RIGHT_MM = 11 * MODULE_MM, 7 * MODULE_MM


@dataclass(frozen=True)
class Isbn:
    digits: str        # ISBN-13, digits only: the barcode's number
    hyphenated: str    # as printed: 978-99965-1-234-6

    @property
    def human_readable(self):
        """The digits under an EAN-13: 9 789996 512346."""
        return f"{self.digits[0]} {self.digits[1:7]} {self.digits[7:]}"


class IsbnError(ValueError):
    """An ISBN that is not valid, with what to write instead."""


def parse(value):
    """An ISBN-10 or ISBN-13 in any hyphenation → Isbn; IsbnError says what is wrong."""
    compact = re.sub(r"[\s-]", "", str(value)).upper()
    if not re.fullmatch(r"\d{9}[\dX]|\d{13}", compact):
        raise IsbnError(f"`{value}` is not an ISBN: it needs 10 or 13 digits")
    if len(compact) == 13:
        expected = ean.calc_check_digit(compact[:12])
    else:
        expected = stdnum_isbn._calc_isbn10_check_digit(compact[:9])
    if compact[-1] != expected:
        raise IsbnError(f"`{value}`: the check digit is {compact[-1]}, expected {expected}")
    try:
        digits = stdnum_isbn.to_isbn13(stdnum_isbn.validate(compact))
    except ValidationError as error:
        raise IsbnError(f"`{value}`: {error}")
    return Isbn(digits, stdnum_isbn.format(digits))


def barcode_svg(number):
    """The EAN-13 bars as a vector SVG, no text (the digits are set in the book's font)."""
    symbol = barcode.get("ean13", number.digits, writer=SVGWriter())
    buffer = io.BytesIO()
    symbol.write(buffer, {"module_width": MODULE_MM, "module_height": BAR_HEIGHT_MM,
                          "quiet_zone": QUIET_LEFT_MM, "write_text": False,
                          "background": "white", "foreground": "black",
                          "guardbar": True})
    return buffer.getvalue().decode("utf-8")

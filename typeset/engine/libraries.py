"""WeasyPrint's shared libraries found with one look at the loader's cache.

WeasyPrint loads Pango, HarfBuzz and fontconfig (weasyprint/text/ffi.py) by trying several
names each, the Windows and macOS ones first. cffi hands each name that does not load to
ctypes.util.find_library, which runs ldconfig, then gcc, then ld, for every one of them:
22 lookups, 0.4 s of the 1.6 s every typeset process spends starting. While WeasyPrint is
imported, find_library reads `ldconfig -p` once and answers from it; a name it does not
list is not found (the name that loads comes later in WeasyPrint's list). Without ldconfig,
the standard lookup is used.
"""

import ctypes.util
import re
import shutil
import subprocess
from contextlib import contextmanager


@contextmanager
def found_quickly():
    """ctypes.util.find_library answered from one `ldconfig -p` for the block's duration."""
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    try:
        listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True,
                                 env={"LC_ALL": "C", "LANG": "C"}, check=True).stdout \
            if ldconfig else None
    except (OSError, subprocess.CalledProcessError):
        listing = None
    if not listing:
        yield
        return

    def find_library(name):
        # As ctypes.util._findSoname_ldconfig reads it: `libNAME.so.N (…) => path`.
        found = re.search(rf"\s(lib{re.escape(name)}\.[^\s]+)\s+\(", listing)
        return found[1] if found else None

    standard, ctypes.util.find_library = ctypes.util.find_library, find_library
    try:
        yield
    finally:
        ctypes.util.find_library = standard

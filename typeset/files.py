"""Writing files so that a reader never sees half of one: the one way this project writes
its outputs and its caches.

A file is written to a temporary file beside it (`.<name>.<random>.tmp`) and renamed into
place: a reader sees the old file or the new one, never half of one. It is not forced to disk
(fsync): an output can be built again, ext4 writes a file replaced by a rename before the
rename, and forcing a press file's half gigabyte to disk (then deleting it on disk at the next
build) cost a second a build. A cache file is written the same way with the old one removed
first (`write_cache`), which spares it that writing before the rename. An interrupted
build's temporaries are removed by the next one (lock.remove_stale_temporaries). `publish`
(postprocess) writes several temporaries first and renames them together; the caches keep
only what the last build used (`forget_others`).
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

_UMASK = os.umask(0)
os.umask(_UMASK)


def from_uri(url):
    """The path a `file:` URL names (as html.image_sources writes them)."""
    return Path(unquote(urlsplit(url).path))


def temporary(folder, name, data):
    """`data` in a new temporary file in `folder`, named after `name`; its path.
    `data`: bytes, or a function that writes into the open binary file (a large output written
    piece by piece)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    handle, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    with os.fdopen(handle, "wb") as file:
        if callable(data):
            data(file)
        else:
            file.write(data)
    os.chmod(path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
    return Path(path)


def write_atomically(path, data):
    """Write `data` (bytes, or text as UTF-8) to `path`, whole or not at all."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    os.replace(temporary(path.parent, path.name, data), path)


def write_cache(path, data):
    """A cache file: written whole or not at all, as write_atomically, but the old file is
    removed first. ext4 writes a file renamed over an existing one to disk before the rename
    (auto_da_alloc: 8 ms for 2 MB, 0.07 s of an edit's caches); a cache missing for a moment
    is a cache miss. The outputs, which a reader may open at any time, are renamed over."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    move_cache(temporary(path.parent, path.name, data), path)


def move_cache(source, target):
    """A cache file renamed to `target` (the old one removed first, as write_cache)."""
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).unlink(missing_ok=True)
    os.replace(source, target)


def forget_others(folder, pattern, used):
    """Remove the files of `folder` matching `pattern` whose names are not in `used`."""
    folder = Path(folder)
    if folder.is_dir():
        for path in folder.glob(pattern):
            if path.name not in used:
                path.unlink(missing_ok=True)

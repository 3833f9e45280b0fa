"""Files a build keeps for the next one, under the output folder's .cache.

Each is written whole or not at all (a temporary file renamed into place; an interrupted
build's temporaries are removed by the next one, lock.remove_stale_temporaries), and each
folder holds only what the last build used.
"""

import os
import tempfile
from pathlib import Path


def keep(path, data):
    """Write `data` to `path`, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def forget_others(folder, pattern, used):
    """Remove the files of `folder` matching `pattern` whose names are not in `used`."""
    folder = Path(folder)
    if folder.is_dir():
        for path in folder.glob(pattern):
            if path.name not in used:
                path.unlink(missing_ok=True)

"""What WeasyPrint may read: files inside the book's folders, nothing else.

No network scheme is fetched (http:, https:, ftp: … are refused before any connection is
made), and a `file:` URL is served only when its real path — after `..` and symbolic links are
resolved — is inside one of the allowed folders (or is one of the allowed files) and is a
regular file: a link that points out of the book, a `../` escape, a device or a pipe are
refused. Refusals are errors of the build (render: BuildError "refused to read: …").
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse


class ContainedFetcher(URLFetcher):
    """Serves `file:` URLs under the allowed folders and `data:` URLs; refuses the rest.

    Refusals are remembered so the build can report them as errors: WeasyPrint itself only
    logs a failed fetch and goes on.
    """

    def __init__(self, roots, files=()):
        super().__init__(allowed_protocols={"file", "data"})
        self.roots = [Path(root).resolve() for root in roots]
        self.files = {Path(file).resolve() for file in files}
        self.refused = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme != "file":
            return self._refuse(url, "only files inside the book's folders may be used")
        if parts.netloc not in ("", "localhost"):
            return self._refuse(url, "a file on another host is outside the book's folders")
        name = unquote(parts.path)
        if "\0" in name:
            return self._refuse(url, "not a valid file name")
        path = Path(name).resolve()
        if path not in self.files and not any(path.is_relative_to(root) for root in self.roots):
            return self._refuse(url, "the file is outside the book's folders")
        if path.exists() and not path.is_file():
            return self._refuse(url, "not a regular file")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    def _refuse(self, url, reason):
        self.refused.append(f"{url}: {reason}")
        raise ValueError(f"refused {url}: {reason}")

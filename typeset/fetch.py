"""What WeasyPrint may read: files inside the book's folders, nothing else."""

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
        path = Path(unquote(parts.path)).resolve()
        if path not in self.files and not any(path.is_relative_to(root) for root in self.roots):
            return self._refuse(url, "the file is outside the book's folders")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    def _refuse(self, url, reason):
        self.refused.append(f"{url}: {reason}")
        raise ValueError(f"refused {url}: {reason}")

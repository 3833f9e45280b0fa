"""The one error type an editor sees: what is wrong, where, and how to fix it."""

from pathlib import Path


class ContentError(Exception):
    """A problem in the book's content, located at a file and line, with a hint."""

    def __init__(self, file, line, message, hint=""):
        self.file = Path(file) if file else None
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def __reduce__(self):  # sent whole from a forked writer (forks.run)
        return type(self), (self.file, self.line, self.message, self.hint)

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        text = f"{where}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


class BuildError(Exception):
    """A build that cannot finish for a reason outside the content (layout, fonts, output)."""

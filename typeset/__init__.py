"""typeset: structured content (YAML) → print templates (Jinja2, CSS) → bookmarked PDF booklet.

The stages, one module each: content → fonts → render → preflight → postprocess → report;
`build.build()` calls them in order and `cli` wires them to the command line. The data they
pass along is in `model`; the block kinds in `kinds`; the editions in `editions`; WeasyPrint
behind `engine`. See docs/architecture.md.
"""

from pathlib import Path

# The project's own folders: the shared templates and styles every book starts from.
PROJECT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT / "templates"
STYLES = PROJECT / "styles"
CODE = Path(__file__).resolve().parent

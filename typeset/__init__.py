"""typeset: structured content (YAML) → print templates (Jinja2, CSS) → bookmarked PDF booklet.

The stages, one module each: content → render → preflight → postprocess; `build.build()`
calls them in order and `cli` wires them to the command line.
"""

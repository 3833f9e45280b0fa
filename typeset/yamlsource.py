"""YAML that remembers where each value came from, so errors can name the line."""

import functools

import yaml

from .errors import ContentError


class Mapping(dict):
    """A YAML mapping with the line of the mapping and of each of its keys."""

    line = 0
    key_lines: dict

    def line_of(self, key):
        return self.key_lines.get(key, self.line)


class Sequence(list):
    """A YAML sequence with the line of each item."""

    line = 0
    item_lines: list

    def line_of(self, index):
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        """Refuse anchors (&name) and aliases (*name): an alias shares one mapping between
        places, so an edit of one is an edit of all, and a value taken out of one is taken
        out of all. Each place writes its block out."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            raise ContentError(self.name, event.start_mark.line + 1,
                               f"YAML {'alias' if sign == '*' else 'anchor'} "
                               f"`{sign}{event.anchor}`: anchors and aliases are not used in a "
                               "catalogue", "write the block out in full at each place it is "
                               f"used, without `&{event.anchor}` and `*{event.anchor}`")
        return super().compose_node(parent, index)


def _mapping(loader, node):
    loader.flatten_mapping(node)
    result = Mapping()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int)):
            raise ContentError(loader.name, line, "a key must be a word",
                               "write `name: value`")
        if key in result:
            raise ContentError(loader.name, line, f"`{key}` is given twice in this mapping",
                               f"keep one `{key}` (the first is on line {result.key_lines[key]})")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _sequence(loader, node):
    result = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _timestamp_as_text(loader, node):
    # Dates stay as the editor wrote them: the book prints them, it does not compute with them.
    return loader.construct_scalar(node)


class _Fast(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser with the same constructors: a tenth of the time. It resolves anchors
    and aliases without asking, so it reads only text without `&` and `*`, and any error it
    finds is reported by _Loader, whose messages the hints are written for."""


for _loader in (_Loader, _Fast):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


@functools.lru_cache(maxsize=256)
def _fast(text, name):
    """The data in `text` read by libyaml, or None: then _Loader reads it (an anchor, an
    alias or an error to report). Kept per text for the process: after an edit, watch reads
    again only the file that changed (the others: 0.03 s of a caption edit's 0.07). What is
    read is never changed afterwards (content.py builds its own objects from it)."""
    if "&" in text or "*" in text or _Fast is _Loader:
        return None
    loader = _Fast(text)
    loader.name = name
    try:
        return loader.get_single_data()
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()


def load(path):
    """Parse one YAML file; syntax errors become ContentError with the file and line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ContentError(path, 0, "file not found", "create it or remove it from book.yaml")
    except IsADirectoryError:
        raise ContentError(path, 0, "is a folder, not a YAML file", "rename or remove the folder")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ContentError(path, data[:error.start].count(b"\n") + 1,
                           f"not UTF-8 text (byte 0x{data[error.start]:02x})",
                           "save the file as UTF-8")
    if (data := _fast(text, str(path))) is not None:
        return data
    loader = None
    try:
        loader = _Loader(text)
        loader.name = str(path)
        return loader.get_single_data()
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark or error.context_mark
        problem = (error.problem or error.context or "invalid YAML").strip()
        raise ContentError(path, mark.line + 1 if mark else 0, f"YAML error: {problem}",
                           "write plain text, lists and mappings: no `!` tags")
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        problem = (error.problem or error.context or "invalid YAML").strip()
        raise ContentError(path, line, f"YAML syntax error: {problem}",
                           "check indentation, colons and quotes on this line and the one above")
    except yaml.reader.ReaderError as error:
        line = text[:error.position].count("\n") + 1
        raise ContentError(path, line, f"the character U+{error.character:04X} is not allowed "
                           "in YAML", "remove it (it is invisible: retype the text around it)")
    except yaml.YAMLError as error:
        raise ContentError(path, 0, f"YAML error: {error}", "fix the YAML syntax")
    except RecursionError:
        raise ContentError(path, loader.line + 1, "YAML nested too deeply",
                           "check the brackets: a list or mapping is opened and never closed")
    finally:
        if loader is not None:
            loader.dispose()

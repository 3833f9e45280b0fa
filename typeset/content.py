"""Stage 1 — content: load `book.yaml` and its chapter files into a validated `Book`.

Nothing is rendered from content that does not validate: every problem is a ContentError
naming the file, the line and the fix. That includes the photos that have arrived: a file the
content names that is damaged, truncated, not the type its name says, a decompression bomb,
an SVG that refers outside itself, or a link to a file outside the images folder is an error
at the line that names it (see `images.check`); one that has not arrived is a placeholder.
Blocks are checked against their kind's declaration (kinds.py), the tokens against design.py.
"""

import dataclasses
import re
from pathlib import Path

from . import TEMPLATES, design, languages, typography, yamlsource
from . import images as images_module
from .errors import ContentError
from .fields import (LOADING, Loading, Where, check_fields, closest, describe, integer,
                     isbn_number, line_of, lines, optional, required, text)
from .kinds import KINDS, texts_of
from .model import Block, Book, Chapter, Section
from .yamlsource import Mapping, Sequence

RESERVED_FILES = {"book.yaml", "labels.yaml", "queries.yaml"}
ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")

BOOK_FIELDS = {"slug": required(text), "title": required(text), "subtitle": optional(text, ""),
               "year": optional(text, ""), "language": optional(design.language_tag, "zh-Hant"),
               "locale": optional(design.language_tag, "zh-Hant"),
               "organisers": optional(lines, []), "images": optional(text, "../images"),
               "isbn": optional(isbn_number), "design": required(lambda v, w: v),
               "production": optional(lambda v, w: v), "chapters": required(lambda v, w: v),
               "publication": optional(lambda v, w: v)}
# The colophon's publication entries (版權頁), each printed with its label from labels.yaml;
# the format (規格) is the trim, from the design tokens.
PUBLICATION = {name: optional(text) for name in (
    "publisher", "designer", "printer", "edition", "print_run", "price", "copyright")}


def load(catalogue, photos=None):
    """Stage 1: read `catalogue/book.yaml` and the chapters it lists, in its order.
    `photos`: the photo checks a build session keeps (fields.Loading)."""
    catalogue = Path(catalogue).resolve()
    book_path = catalogue / "book.yaml"
    if not book_path.is_file():
        raise ContentError(book_path, 0, "book.yaml not found",
                           "pass --catalogue with the folder that holds book.yaml")
    data = yamlsource.load(book_path)
    if not isinstance(data, Mapping):
        raise ContentError(book_path, 1, "book.yaml must be a mapping",
                           "start with `slug: …` and `title: …`")
    meta = check_fields(data, BOOK_FIELDS, Where(book_path, data.line, "book"))
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", meta["slug"]):
        raise ContentError(book_path, data.line_of("slug"), f"slug `{meta['slug']}` is not plain",
                           "use lower-case ascii letters, digits and - (it names the PDFs)")
    images = (catalogue / meta["images"]).resolve()
    if not images.is_relative_to(catalogue.parent):
        raise ContentError(book_path, data.line_of("images"), "images: points outside the project",
                           "use a folder beside the catalogue, such as ../images")
    for name in ("language", "locale"):
        if languages.of(meta[name]) is None:
            raise ContentError(book_path, data.line_of(name), f"{name}: `{meta[name]}` is not "
                               "a language the pipeline sets",
                               f"use one of {languages.supported()} (or a region of one)")
    for name in ("title", "subtitle", "year"):
        _check_passages(meta[name], Where(book_path, data.line_of(name), name))
    for i, organiser in enumerate(meta["organisers"]):
        _check_passages(organiser, Where(book_path, line_of(data["organisers"], i), "organisers"))
    if not images.is_dir():
        raise ContentError(book_path, data.line_of("images") or data.line,
                           f"the images folder `{images.relative_to(catalogue.parent)}/` "
                           f"(`images: {meta['images']}`) does not exist",
                           "create it (the photos go there; until one arrives its slot shows a "
                           "placeholder), or point `images:` at the folder that holds them")
    tokens = design.design(data["design"], book_path, data.line_of("design"))
    publication = check_fields(data.get("publication") or {}, PUBLICATION,
                               Where(book_path, data.line_of("publication") or data.line,
                                     "publication"))
    for name, value in publication.items():
        if value:
            _check_passages(value, Where(book_path, _line(data, "publication", name),
                                         f"publication.{name}"))
    labels, label_lines = _labels(catalogue)
    entries = [name for name, value in publication.items() if value and name != "copyright"]
    for name in entries + (["format"] if entries else []):
        if name not in labels:
            raise ContentError(book_path, _line(data, "publication", name),
                               f"publication.{name}: labels.yaml has no label for it",
                               f"add `{name}: …` to labels.yaml (what the colophon prints "
                               "before it; the format's label is `format`)")
    book = Book(catalogue=catalogue, images=images, slug=meta["slug"], title=meta["title"],
                subtitle=meta["subtitle"], year=meta["year"], language=meta["language"],
                locale=meta["locale"], organisers=meta["organisers"], isbn=meta["isbn"],
                design=tokens, production=design.production(data, book_path, tokens),
                labels=labels, queries=_queries(catalogue),
                publication={name: value for name, value in publication.items() if value},
                sources={**{name: (book_path, data.line_of(name))
                            for name in ("title", "subtitle", "year", "organisers")},
                         **{f"publication.{name}": (book_path, _line(data, "publication", name))
                            for name, value in publication.items() if value},
                         **{f"fonts.{role}": (book_path, _line(data["design"], "fonts", role))
                            for role in tokens["fonts"]},
                         **{f"labels.{name}": (catalogue / "labels.yaml", line)
                            for name, line in label_lines.items()}})
    plans = _chapter_plan(data["chapters"], book_path)
    photos = {} if photos is None else photos
    images_module.check_folder(images, photos)  # every file read once, several at a time
    loading = LOADING.set(Loading(images, photos))
    try:
        _chapters(book, plans, catalogue, book_path)
    finally:
        LOADING.reset(loading)
    return book


def _line(mapping, *keys):
    """The line of a nested key in a YAML mapping (the nearest one given)."""
    line = mapping.line
    for key in keys:
        if not isinstance(mapping, Mapping) or key not in mapping:
            break
        line, mapping = mapping.line_of(key) or line, mapping[key]
    return line


def replace_isbn(book, number):
    """The same book with another ISBN."""
    return dataclasses.replace(book, isbn=number)


# ---------------------------------------------------------------- chapters

def _chapter_plan(chapters, path):
    """book.yaml's chapter list: file names with their planned folios."""
    if not isinstance(chapters, list) or not chapters:
        raise ContentError(path, getattr(chapters, "line", 0),
                           "chapters: expected a list of chapter files",
                           "write `- {file: preface.yaml, folio: 1}` per chapter")
    plans = []
    for i, entry in enumerate(chapters):
        line = line_of(chapters, i)
        if isinstance(entry, str):
            entry = Mapping(file=entry)
            entry.line, entry.key_lines = line, {}
        where = Where(path, line, f"chapters[{i + 1}]")
        if not isinstance(entry, dict):
            where.fail(f"expected a chapter entry, got {describe(entry)}",
                       "write `- {file: preface.yaml, folio: 1}`")
        fields = check_fields(entry, {"file": required(text), "folio": optional(integer),
                                      "sections": optional(lambda v, w: v, {})}, where)
        sections = fields["sections"]
        if not isinstance(sections, dict):
            where.fail("sections: expected `id: folio` pairs", "write sections: {education: 20}")
        for sid, folio in sections.items():
            integer(folio, where.at(f"sections.{sid}"))
        plans.append({"file": path, "line": line, "name": fields["file"],
                      "folio": fields.get("folio"), "sections": sections})
    return plans


def _chapters(book, plans, catalogue, book_path):
    listed = set()
    ids = {}
    for plan in plans:
        path = (catalogue / plan["name"])
        if path.parent.resolve() != catalogue or path.suffix != ".yaml":
            raise ContentError(book_path, plan["line"], f"`{plan['name']}` is not a chapter file "
                               "in this folder", "list a .yaml file beside book.yaml")
        if path.name in listed:
            raise ContentError(book_path, plan["line"], f"`{path.name}` is listed twice",
                               "list each chapter file once")
        listed.add(path.name)
        if not path.is_file():
            raise ContentError(book_path, plan["line"], f"chapter file `{path.name}` does not exist",
                               f"create {path.name} or remove it from the chapter list")
        book.chapters.append(chapter(path, plan, ids))
    for path in sorted(catalogue.glob("*.yaml")):
        if path.name not in listed and path.name not in RESERVED_FILES:
            raise ContentError(path, 1, "this chapter file is not listed in book.yaml",
                               f"add `- file: {path.name}` to the chapters of book.yaml, "
                               "or move the file out of the catalogue")


CHAPTER_KEYS = ("id", "number", "title", "blocks", "sections")
SECTION_KEYS = ("id", "number", "title", "blocks")


def chapter(path, plan, ids):
    """Load and validate one chapter file against its entry in book.yaml."""
    data = yamlsource.load(path)
    if not isinstance(data, Mapping):
        raise ContentError(path, 1, "a chapter file is a mapping with id, title and blocks",
                           "start the file with `id: …` and `title: …`")
    _unknown_keys(data, CHAPTER_KEYS, path, "chapter")
    ident, number, title = _identity(data, path, "chapter", ids)
    sections = []
    raw_sections = data.get("sections") or []
    if not isinstance(raw_sections, list):
        raise ContentError(path, data.line_of("sections"), "sections: expected a list",
                           "write one `- id: …` item per section")
    planned_sections = dict(plan["sections"])
    for i, raw in enumerate(raw_sections):
        line = line_of(raw_sections, i)
        if not isinstance(raw, Mapping):
            raise ContentError(path, line, "a section is a mapping with id, title and blocks",
                               "write `- id: …` then `title: …` and `blocks:`")
        _unknown_keys(raw, SECTION_KEYS, path, "section")
        sid, snumber, stitle = _identity(raw, path, "section", ids)
        sections.append(Section(sid, snumber, stitle,
                                _blocks(raw.get("blocks"), path, raw.line_of("blocks"), sid),
                                planned_sections.pop(sid, None), path, raw.line,
                                (plan["file"], plan["line"])))
    if planned_sections:
        name = next(iter(planned_sections))
        raise ContentError(plan["file"], plan["line"],
                           f"book.yaml plans a folio for section `{name}`, "
                           f"which {path.name} does not have",
                           f"add the section to {path.name} or remove it from book.yaml")
    return Chapter(ident, number, title, _blocks(data.get("blocks"), path,
                                                 data.line_of("blocks"), ident),
                   sections, plan["folio"], path, data.line, (plan["file"], plan["line"]))


def _identity(data, file, what, ids):
    """The id, number and title every chapter and section has."""
    where = Where(file, data.line, what)
    for name in ("id", "title"):
        if name not in data:
            where.fail(f"missing required field `{name}`", f"add `{name}: …`")
    ident = text(data["id"], where.at("id", data.line_of("id")))
    for name in ("number", "title"):
        if name in data:
            _check_passages(data[name], where.at(name, data.line_of(name)))
    if not ID_PATTERN.match(ident):
        where.at("id", data.line_of("id")).fail(
            f"`{ident}` is not a plain id", "use lower-case ascii letters, digits and -")
    if ident in ids:
        where.at("id", data.line_of("id")).fail(
            f"id `{ident}` is used twice ({ids[ident]})", "give each chapter and section its own id")
    ids[ident] = f"{file.name}:{data.line_of('id')}"
    number = text(data["number"], where.at("number", data.line_of("number"))) \
        if "number" in data else ""
    title = text(data["title"], where.at("title", data.line_of("title")))
    return ident, number, title


def _unknown_keys(data, allowed, file, what):
    for key in data:
        if key not in allowed:
            guess = closest(key, allowed)
            raise ContentError(file, data.line_of(key), f"{what}: unknown field `{key}`",
                               f"did you mean `{guess}`?" if guess else
                               f"known fields: {', '.join(allowed)}")


# ---------------------------------------------------------------- blocks

def _blocks(value, file, line, owner):
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContentError(file, line, f"{owner}.blocks: expected a list of blocks",
                           "write one `- kind: …` item per block")
    return [block(item, file, line_of(value, i), f"{owner} block {i + 1}")
            for i, item in enumerate(value)]


def block(value, file, line, where_name):
    """Validate one `- kind: fields` item into a Block (the YAML is read, never changed)."""
    where = Where(file, line, where_name)
    if not isinstance(value, dict) or not value:
        where.fail(f"expected a block such as `- paragraph: …`, got {describe(value)}",
                   f"start the item with a kind: {', '.join(KINDS)}")
    lang = value.get("lang")
    names = [key for key in value if key != "lang"]
    if len(names) != 1:
        where.fail(f"a block has exactly one kind, found {', '.join(map(str, names)) or 'none'}",
                   "start a new `- ` item for each block")
    name = names[0]
    line = value.line_of(name) if isinstance(value, Mapping) else line
    where = Where(file, line, f"{where_name} ({name})")
    if name not in KINDS:
        guess = closest(name, KINDS)
        where.fail(f"unknown block kind `{name}`",
                   f"did you mean `{guess}`?" if guess else f"use one of {', '.join(KINDS)}")
    kind = KINDS[name]
    fields = value[name]
    shorthand = kind.shorthand
    if fields is None:
        fields = {shorthand: None} if shorthand and kind.fields[shorthand].required else {}
    elif shorthand and not isinstance(fields, dict):
        fields = {shorthand: fields}
    if isinstance(fields, dict) and "lang" in fields:
        lang = fields["lang"]
        fields = _without(fields, "lang")
    if lang is not None:
        language = languages.of(lang)
        if language is None:
            where.fail(f"lang `{lang}` is not a language the pipeline sets",
                       f"use one of {languages.supported()}")
    made = Block(name, kind.check(fields, where), lang, file, line)
    for value in texts_of(made):
        _check_passages(value, where)
    return made


def _check_passages(value, where):
    """Each `[…]{lang=…}` passage of a text names a language the pipeline sets."""
    for tag, _ in typography.passages(str(value or "")):
        if tag and languages.of(tag) is None:
            where.fail(f"[…]{{lang={tag}}}: `{tag}` is not a language the pipeline sets",
                       f"use one of {languages.supported()}")


def _without(fields, name):
    """A copy of a YAML mapping without one key, its lines kept."""
    copy = Mapping((key, value) for key, value in fields.items() if key != name)
    copy.line = getattr(fields, "line", 0)
    copy.key_lines = dict(getattr(fields, "key_lines", {}))
    return copy


# ---------------------------------------------------------------- labels and queries

def used_labels(templates=(TEMPLATES,)):
    """The labels the templates print (`labels.name`): each must be in labels.yaml."""
    return sorted({name for folder in templates for template in Path(folder).rglob("*.j2")
                   for name in re.findall(r"\blabels\.([a-z_][a-z0-9_]*)",
                                          template.read_text(encoding="utf-8"))})


def _labels(catalogue):
    """The book's fixed phrases and separators, one file for all templates and their lines."""
    path = catalogue / "labels.yaml"
    if not path.is_file():
        raise ContentError(path, 0, "labels.yaml not found",
                           "copy labels.yaml from another book and translate its phrases")
    data = yamlsource.load(path)
    if not isinstance(data, Mapping):
        raise ContentError(path, 1, "labels.yaml must be a mapping of name: phrase",
                           "write one `name: phrase` a line, as the other books' labels.yaml")
    labels = {key: text(value, Where(path, data.line_of(key), key))
              for key, value in data.items()}
    for name in used_labels():
        if name not in labels:
            raise ContentError(path, data.line or 1, f"the label `{name}` is missing",
                               f"add `{name}: …` (the templates print it)")
    return labels, {key: data.line_of(key) for key in labels}


QUERY = {"file": optional(text), "where": optional(text), "what": required(text),
         "suggestion": optional(text)}


def _queries(catalogue):
    """The editor's queries (queries.yaml, optional): a list of {file, where, what,
    suggestion}; the preflight lists them."""
    path = catalogue / "queries.yaml"
    if not path.is_file():
        return []
    data = yamlsource.load(path)
    if data is None:
        return []
    if not isinstance(data, Sequence):
        raise ContentError(path, getattr(data, "line", 1) or 1,
                           "queries.yaml must be a list of queries",
                           "write one `- file: …` item (with where, what, suggestion) per query")
    return [check_fields(entry, QUERY, Where(path, line_of(data, i), f"query {i + 1}"))
            for i, entry in enumerate(data)]

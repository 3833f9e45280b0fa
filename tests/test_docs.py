"""The docs and the code say the same (sqlite-utils' test_docs is the model): every block
kind and field `typeset/kinds.py` declares is in docs/content-model.md's table with its
required ones in bold, and nothing else is; every choice's options are named; every design
and production token is in docs/design.md; every output of editions.py is in the README;
every patch of WeasyPrint is in docs/architecture.md."""

import re
from pathlib import Path

import pytest

from typeset import design, editions
from typeset.fields import CHOICE, RECORDS
from typeset.kinds import KINDS

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"


def documented_kinds():
    """kind → {field: (required, nested fields or None)} from the content model's table."""
    text = (DOCS / "content-model.md").read_text(encoding="utf-8")
    table = text[text.index("| kind | fields"):].split("\n\n")[0]
    kinds = {}
    for row in table.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        kinds[cells[0].strip("`")] = fields_of(cells[1])
    return kinds


def fields_of(cell):
    found = {}
    for match in re.finditer(r"(\*\*)?([a-z_]+)(?:\*\*)?(?:\s*\[([^\]]*)\])?", cell):
        bold, name, nested = match.groups()
        found[name] = (bool(bold), fields_of(nested) if nested else None)
    return found


def declared(spec):
    return {name: (field.required, declared(field.check.spec) if field.role == RECORDS else None)
            for name, field in spec.items()}


def test_the_content_model_documents_every_kind_and_field_and_nothing_else():
    documented = documented_kinds()
    assert list(documented) == list(KINDS)
    for name, kind in KINDS.items():
        assert documented[name] == declared(kind.fields), name


@pytest.mark.parametrize("name", list(KINDS))
def test_every_choice_names_its_options(name):
    text = (DOCS / "content-model.md").read_text(encoding="utf-8")
    for field_name, field in KINDS[name].fields.items():
        if field.role == CHOICE:
            found = re.search(rf"^- `{field_name}`.*?(?=^- |^$)", text, re.M | re.S)
            entry = found[0] if found else ""
            for option in field.check.options:
                assert f"`{option}`" in entry, f"{name}.{field_name}: `{option}` undocumented"


def test_every_token_is_documented_with_its_default():
    text = (DOCS / "design.md").read_text(encoding="utf-8")
    tokens = text[text.index("## The tokens"):text.index("## The press's colour")]
    tokens = tokens.replace(tokens[tokens.index("Colours (`design.colours`)"):
                                   tokens.index("Font roles")], "")
    rows = {match[1]: match[2] for match in re.finditer(r"^\| `([a-z_]+)` \|([^\n]*)", tokens,
                                                         re.M)}
    for name in design.DESIGN:
        assert name in rows, f"design token `{name}` is not in docs/design.md"
    for name, field in design.PRODUCTION.items():
        assert name in rows, f"production token `{name}` is not in docs/design.md"
        default = "none" if field.default is None else str(field.default)
        assert default in rows[name], f"`{name}`: its default {field.default}"
    assert set(rows) <= set(design.DESIGN) | set(design.PRODUCTION) | set(design.FONT_ROLES)


def test_the_colour_table_is_what_the_profile_derives():
    from conftest import CATALOGUE
    from typeset import colour, content
    text = (DOCS / "design.md").read_text(encoding="utf-8")
    for swatch in colour.swatches(content.load(CATALOGUE)):
        assert f"| `{swatch.name}` | {swatch.cmyk} | {swatch.css} |" in text, swatch


def test_the_readme_lists_every_output():
    text = README.read_text(encoding="utf-8")
    for name in editions.outputs():
        assert f"<slug>-{name}.pdf" in text, name


def test_the_architecture_names_every_patch_of_weasyprint():
    from typeset.engine.patches import PATCHES
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for patch in PATCHES.values():
        module = patch.module.__name__.rsplit(".", 1)[-1] + ".py"
        assert f"`{module}`" in text, f"{module} (patch `{patch.name}`) is not in architecture.md"

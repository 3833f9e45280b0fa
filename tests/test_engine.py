"""The engine (typeset/engine/): the only code that touches WeasyPrint's internals. Each patch
is checked against the upstream source it was written for; another version is refused with
a clear message, also under `python -O`; and the package stays a house a newcomer can live in
(no import cycle, no module over 450 lines)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from typeset.engine import patches

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "typeset"


@pytest.mark.parametrize("name", list(patches.PATCHES))
def test_each_patch_matches_the_upstream_source_it_was_written_for(name):
    """A version bump that changes a patched function fails here, naming the patch."""
    patch = patches.PATCHES[name]
    for target, expected in patch.fingerprints.items():
        assert patches.fingerprint(patch, target) == expected, (
            f"the patch `{name}` ({patch.module.__name__}) replaces {target}, whose source "
            f"changed upstream: recheck the patch against it, then update its fingerprint")
    assert {f"{owner}.{attribute}" for owner, attribute, _ in patch.targets} == \
        set(patch.fingerprints)


def test_installed_patches_replace_exactly_their_targets():
    patches.install()
    for patch in patches.PATCHES.values():
        for owner, attribute, replacement in patch.targets:
            holder = patches.resolve(owner)
            current = holder.__dict__[attribute] if isinstance(holder, type) \
                else getattr(holder, attribute)
            if patch.during_write:
                assert current is patch.module.ORIGINAL.get(attribute, current)
                assert current is not getattr(patch.module, replacement)
            else:
                assert current is getattr(patch.module, replacement), (patch.name, attribute)


def test_write_time_patch_is_undone_after_the_write():
    from weasyprint.pdf import fonts
    before = fonts.Font.clean
    with patches.applied("programs"):
        assert fonts.Font.clean is not before
    assert fonts.Font.clean is before


@pytest.mark.parametrize("optimise", [[], ["-O"]], ids=["python", "python -O"])
def test_another_weasyprint_version_is_refused_in_one_line(small_book, optimise):
    script = ("import sys, weasyprint; weasyprint.__version__ = '71.0'\n"
              "from typeset.cli import main\n"
              f"sys.exit(main(['build', '--catalogue', {str(small_book.catalogue)!r}, "
              f"'--out', {str(small_book.out)!r}]))")
    run = subprocess.run([sys.executable, *optimise, "-c", script], cwd=PROJECT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stderr
    assert errors[0].startswith("error: weasyprint 71.0 is installed, but the patch `justify`")
    assert "weasyprint.layout.inline.justify_line" in errors[0] and "70.0" in errors[0]
    assert not list(small_book.out.glob("*.pdf"))


def _imports(path):
    """The typeset modules a module imports (anywhere in it), as dotted names."""
    module = ".".join(path.relative_to(PROJECT).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        module = package
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            origin = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{origin}.{alias.name}"
                found.add(candidate if _is_module(candidate) else origin)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("typeset")}
    return module, {name for name in found if name != module and name != "typeset"}


def _is_module(dotted):
    path = PROJECT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_no_import_cycle_in_the_package():
    graph = dict(_imports(path) for path in PACKAGE.rglob("*.py"))
    visiting, done = [], set()

    def visit(module):
        if module in done:
            return
        assert module not in visiting, "import cycle: " + " → ".join(
            visiting[visiting.index(module):] + [module])
        visiting.append(module)
        for imported in sorted(graph.get(module, ())):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_weasyprint_internals_only_in_the_engine():
    """Outside typeset/engine/, only WeasyPrint's public API (HTML, CSS, urls) is imported."""
    public = {"weasyprint", "weasyprint.urls"}
    for path in PACKAGE.rglob("*.py"):
        if "engine" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.startswith(("weasyprint", "pydyf")):
                    assert name in public, f"{path.name} imports {name}: go through the engine"


def test_no_module_over_450_lines():
    long = {str(path.relative_to(PROJECT)): length for path in PACKAGE.rglob("*.py")
            if (length := len(path.read_text(encoding="utf-8").splitlines())) > 450}
    assert not long, f"split these (each does two jobs): {long}"


@pytest.mark.skipif(not (shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin")),
                    reason="no ldconfig: WeasyPrint's libraries are found the standard way")
def test_weasyprint_libraries_are_found_from_one_ldconfig_listing():
    """While WeasyPrint is imported, find_library answers from `ldconfig -p`: the names it
    lists become their sonames, others are not found, and the standard lookup is back after."""
    import ctypes.util

    from typeset.engine import libraries
    standard = ctypes.util.find_library
    with libraries.found_quickly():
        assert ctypes.util.find_library("pango-1.0") == "libpango-1.0.so.0"
        assert ctypes.util.find_library("harfbuzz-subset") == "libharfbuzz-subset.so.0"
        assert ctypes.util.find_library("libpango-1.0-0") is None  # the Windows name
    assert ctypes.util.find_library is standard

"""Checks of the written PDFs (an edition's `checks` in editions.py; preflight.outputs runs
them): only the fonts book.yaml names, embedded and subset; the press's boxes and output
intent; the screen edition's size budget."""

from .model import Finding


def fonts(book, path, pdf):
    """Every font is one book.yaml names (else some text fell back), embedded and subset."""
    named = {family.replace(" ", "-") for family in book.design["fonts"].values()}
    findings = []
    for name, embedded, subset in _fonts(pdf):
        family = name.split("+")[-1].removesuffix("-Bold")
        if family not in named:
            findings.append(Finding("error", "font", f"{path.name}",
                                    f"{family} is used but book.yaml names "
                                    f"{', '.join(sorted(named))} — some text fell back to "
                                    "another font: find it and name a font that has it"))
        if not embedded:
            findings.append(Finding("error", "font", f"{path.name}",
                                    f"font {name} is not embedded — it must be, for print"))
        elif not subset:
            findings.append(Finding("warning", "font", f"{path.name}",
                                    f"font {name} is embedded whole, not subset"))
    return findings


def press_boxes(book, path, pdf):
    """Every page of a press file has its TrimBox and BleedBox."""
    return [Finding("error", "boxes", f"{path.name} page {index + 1}",
                    "no TrimBox or BleedBox — the press needs both")
            for index, page in enumerate(pdf.pages)
            if "/TrimBox" not in page.obj or "/BleedBox" not in page.obj]


def output_intent(book, path, pdf):
    if "/OutputIntents" in pdf.Root:
        return []
    return [Finding("error", "output-intent", path.name,
                    "no output intent — set production.output_profile")]


def screen_budget(book, path, pdf=None):
    """The screen edition is the web file: larger than its budget, it needs smaller photos."""
    size, budget = path.stat().st_size / 1e6, book.production["screen_budget_mb"]
    if size <= budget:
        return []
    production = book.production
    return [Finding("warning", "screen-size", path.name,
                    f"{size:.1f} MB, over the screen edition's budget of {budget:g} MB with its "
                    "photos at the lowest quality the budget may ask for — lower "
                    f"production.screen_dpi ({production['screen_dpi']}) in book.yaml, or raise "
                    "screen_budget_mb")]


def _fonts(pdf):
    """(name, embedded, subset) of every font the PDF's pages use (pikepdf: reading the
    written files with qpdf takes a tenth of pypdf's time)."""
    seen = {}
    for page in pdf.pages:
        fonts_used = page.obj.get("/Resources", {}).get("/Font", {})
        for font in fonts_used.values():
            name = str(font.get("/BaseFont", "?"))
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0] if descendants else font).get("/FontDescriptor")
            descriptor = descriptor if descriptor is not None else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            seen[name] = (name.lstrip("/"), embedded, name[1:8].endswith("+"))
    return sorted(seen.values())

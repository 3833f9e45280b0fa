"""The first book's conventions live in its `labels.yaml`, not in the code: a scan of
`templates/`, `styles/` and `typeset/` for Chinese phrases and separators outside comments and
docstrings. Three files may name them, each for a reason the scan states."""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Han, CJK punctuation, full-width forms, and the double dash used as a separator.
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]|——")
ALLOWED = {
    "typeset/typography.py": "defines which characters are Chinese punctuation",
    "typeset/fields.py": "reads dates written in Chinese (2018年5月24日至22日) in the content",
    "typeset/bench.py": "edits the real catalogue's text to time a rebuild",
}


def _python_strings(text):
    """(line, literal) of each string that is not a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.add(body[0].lineno)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.start[0] not in docstrings:
            yield token.start[0], token.string


def _markup_lines(text):
    """(line, text) with Jinja and CSS comments blanked (line numbers kept)."""
    text = re.sub(r"\{#.*?#\}|/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), text,
                  flags=re.S)
    return enumerate(text.splitlines(), 1)


def named_phrases():
    found = []
    for folder, suffix in (("typeset", ".py"), ("templates", ".j2"), ("styles", ".css")):
        for path in sorted((ROOT / folder).rglob(f"*{suffix}")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED:
                continue
            text = path.read_text(encoding="utf-8")
            pieces = _python_strings(text) if suffix == ".py" else _markup_lines(text)
            found += [f"{name}:{line}: {piece.strip()[:80]}" for line, piece in pieces
                      if CHINESE.search(piece)]
    return found


def test_no_chinese_phrase_or_separator_outside_labels():
    assert named_phrases() == []


def test_the_scan_finds_what_it_looks_for():
    """The scan is not blind: it finds a separator in a string and ignores it in a comment."""
    assert CHINESE.search("'．'") and CHINESE.search("'——'") and CHINESE.search("目錄")
    assert not CHINESE.search("'—' '…' 'Preflight — title'")
    assert list(_python_strings('"""文檔"""\nx = "目錄"  # 註\n')) == [(2, '"目錄"')]
    assert [line for line, text in _markup_lines("/* 目錄 */\n.a::after { content: '．'; }")
            if CHINESE.search(text)] == [2]

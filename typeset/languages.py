"""The languages a book's text may be in: one entry each.

A language names the font roles (design.fonts) that set its text and whether the Chinese text
rules apply to it (typography.py: inter-character justification, compressed punctuation,
full-width quotes, the Han–Latin gap) or the Latin ones (word spacing, hyphenation, its own
quotes and ellipsis). Content accepts `lang:` on a block, and `[…]{lang=…}` inside a text, for
these; the fonts stage checks each text against its language's faces; the tokens stylesheet
gives each its faces and hyphenation (templates/tokens.css.j2).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    tag: str
    body: str         # the font role of its running text
    heading: str      # the font role of its headings, captions and titles
    chinese: bool     # set by the Chinese rules (else the Latin ones)
    hyphenate: bool = False


LANGUAGES = {
    "zh-Hant": Language("zh-Hant", "body", "heading", chinese=True),
    "zh-Hans": Language("zh-Hans", "body_simplified", "heading_simplified", chinese=True),
    "en": Language("en", "latin", "latin_heading", chinese=False, hyphenate=True),
    "pt": Language("pt", "latin", "latin_heading", chinese=False, hyphenate=True),
}


def of(tag):
    """The language of a tag as written in content or book.yaml: itself, or the entry it is
    a region or variant of (zh-Hant-MO → zh-Hant, pt-PT → pt); None when unsupported."""
    tag = str(tag or "")
    while tag:
        for known in LANGUAGES:
            if tag.lower() == known.lower():
                return LANGUAGES[known]
        tag = tag.rpartition("-")[0]
    return None


def stack(role, home):
    """The font roles a role's text is set in, in order: another language's faces are followed
    by the book's own (`home`, the book's language), which sets what they lack — Han in an
    English paragraph. Read by the tokens stylesheet (html.faces) and the font check."""
    for language in LANGUAGES.values():
        for own, fallback in ((language.body, home.body), (language.heading, home.heading)):
            if role == own and own != fallback:
                return (role, fallback)
    return (role,)


def supported():
    return ", ".join(LANGUAGES)

"""Chinese text rules WeasyPrint 70 does not apply itself (W3C clreq), as marked-up runs.

WeasyPrint ignores `text-spacing-trim`, `text-autospace` and `line-break`, so the pipeline
marks the text up instead; the templates turn the runs into spans and the CSS does the rest.
No character is added or removed: the PDF's text layer stays the source text.

- quotation marks “” ‘’ are set full-width (`fwid`), as the other marks are;
- adjacent punctuation (」。 ，「 ）、): one mark of the pair is set half-width (`halt`) —
  the opening one if the second is opening, else the first — so the pair takes 1.5 em;
- Han next to Latin letters or digits with no space typed: a quarter-em gap (a typed space
  already is one: the fonts' space is 0.256 em) — in headings 0.08 em, which PDF readers do
  not take for a space, so a heading copies as typed — never at a line's end or start (the
  characters on both sides of it stay together);
- a paragraph never ends with one Han character alone on its last line: the last two
  characters (and the marks after them) are kept together;
- a dash, wave dash or middle dot (—, ～, ·), which Pango lets start a line, stays with the
  character before it.

These rules are for Chinese text. A text may hold passages in other languages, written
`[Fortaleza do Monte]{lang=pt}` (languages.py lists them): each becomes a span with its
`lang`, set by its language's rules — Latin text gets none of the above (its quotes and
apostrophes stay Latin, its faces and hyphenation come from the stylesheet).
"""

import functools
import re
from dataclasses import dataclass, field

from . import languages

OPENING = "（「『《〈“‘【〔［｛"
CLOSING = "）」』》〉”’】〕］｝"
STOPS = "，。、；：？！"
PUNCTUATION = set(OPENING + CLOSING + STOPS)
GLUE_TO_PREVIOUS = "—⸺～·﹏"
QUOTES = "“”‘’"
LATIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[.,:/%+\-](?=[A-Za-z0-9]))*%?")


def is_han(char):
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x3134F
            or 0xF900 <= code <= 0xFAFF)


@dataclass
class Part:
    """A run of characters with the classes the template puts on its span (none: plain)."""

    text: str
    classes: str = ""


@dataclass
class Segment:
    """A passage of one language: `lang` its tag when marked in the text (None: the text's
    own language), `groups` its parts."""

    lang: str | None
    groups: list
    classes: str = ""   # gap-before / gap-after: a Latin passage beside Han, as inside one


SPAN = re.compile(r"\[([^\[\]]+)\]\{lang=([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\}")


def passages(text):
    """The text as (language tag or None, passage) pairs, in order."""
    found, position = [], 0
    for match in SPAN.finditer(text):
        if match.start() > position:
            found.append((None, text[position:match.start()]))
        found.append((match[2], match[1]))
        position = match.end()
    if position < len(text) or not found:
        found.append((None, text[position:]))
    return found


def plain(text):
    """The text without its language marks: what a PDF's outline, a running head or the
    metadata show."""
    return SPAN.sub(r"\1", str(text))


CORNER = str.maketrans("“”‘’", "「」『』")
CURLY = str.maketrans("「」『』", "“”‘’")
HAN_OR_MARK = r"[\u3400-\u9fff（「『《〈【〔，。、；：？！）」』》〉】〕]"


def normalise(text, quotes="keep", punctuation="keep"):
    """A Chinese passage with the editor's typographic choices (design `quotes`,
    `punctuation`): quotation marks as corner brackets 「」『』 or curly “”‘’ (an apostrophe
    between Latin letters stays); ASCII marks typed in Chinese as their full-width forms —
    three dots or more, or a lone …, as the two-em ……; ( ) beside Han as （ ）, [ ] as the
    title marks 《 》 (a programme's or a paper's name) — and a space typed after a full-width mark removed (the mark has its own blank)."""
    if quotes != "keep":
        table = CORNER if quotes == "corner" else CURLY
        text = "".join(char if (char in "‘’" and 0 < i < len(text) - 1 and _latin(text[i - 1])
                                and _latin(text[i + 1])) else char.translate(table)
                       for i, char in enumerate(text))
    if punctuation == "normalise":
        text = re.sub(r"\.{3,}|。{3,}|(?<!…)…(?!…)", "……", text)
        text = re.sub(rf"\((?={HAN_OR_MARK})", "（", text)
        text = re.sub(rf"(?<={HAN_OR_MARK})\)", "）", text)
        text = re.sub(rf"\[(?={HAN_OR_MARK})", "《", text)  # a title: [新聞聯播] as 《新聞聯播》
        text = re.sub(rf"(?<={HAN_OR_MARK})\]", "》", text)
        text = re.sub(f"(?<=[{re.escape(STOPS + CLOSING.replace('”', '').replace('’', ''))}])[ \u3000]+",
                      "", text)
    return text


PHRASE_MOST = 14  # characters: a longer phrase of a headline may still break inside


def phrases(text):
    """A headline as (phrase, kept whole, what follows it): it breaks at its typed spaces and
    after 、，：；！？ only — never inside a short word (「框/架协议」); a phrase longer than
    PHRASE_MOST characters breaks inside, but keeps its last four together. Text with marked
    passages is one phrase."""
    text = str(text)
    if SPAN.search(text):
        return [(text, False, "")]
    found, pieces = [], []
    for match in re.finditer(r"([^ 、，：；！？]+[、，：；！？]*)( *)", text):
        if pieces and not pieces[-1][1] and match[1][0] in PUNCTUATION:
            # 「：“」: a mark after a mark stays with it (a pair is set compressed)
            pieces[-1] = (pieces[-1][0] + match[1], match[2])
        else:
            pieces.append((match[1], match[2]))
    for phrase, space in pieces:
        if len(phrase) > PHRASE_MOST:  # breaks inside, but not within its last two words
            found.append((phrase[:-4], False, ""))
            phrase = phrase[-4:]
        found.append((phrase, True, " " if space else ""))
    return found or [(text, False, "")]


def to_last_sentence(text):
    """The text up to its last full sentence (after 。！？), for an excerpt that the source
    cuts mid-sentence; the whole text when it has no sentence end."""
    ends = [text.rfind(mark) for mark in "。！？"]
    end = max(ends)
    return text[:end + 1] if end >= 0 else text


def segments(text, lang, quotes="keep", punctuation="keep"):
    """The text, in language `lang`, as Segments ready for the `m.text()` template macro:
    Chinese passages by the rules above (and `normalise`d), others as they are. Kept per
    text: a rebuild, a stretch of a chapter (html.Piece), sets the same texts again."""
    return list(_segments(str(text), lang, quotes, punctuation))


@functools.lru_cache(maxsize=16384)
def _segments(text, lang, quotes, punctuation):
    result, pieces = [], passages(text)
    for index, (tag, passage) in enumerate(pieces):
        language = languages.of(tag or lang)
        chinese = language is None or language.chinese
        segment = Segment(tag, runs(normalise(passage, quotes, punctuation)) if chinese
                          else [Group(False, [Part(passage)])])
        if not chinese and passage:
            # The quarter-em between Han and a Latin passage marked in the text, as between
            # Han and a Latin word written inside Chinese.
            before = pieces[index - 1][1] if index else ""
            after = pieces[index + 1][1] if index + 1 < len(pieces) else ""
            gaps = [name for name, han, latin in (
                ("gap-before", before[-1:], passage[0]), ("gap-after", after[:1], passage[-1]))
                if han and is_han(han) and _latin(latin)]
            segment.classes = " ".join(gaps)
        result.append(segment)
    return tuple(result)


@dataclass
class Group:
    """Parts that must stay on one line (`nobr`) or may break anywhere."""

    nobr: bool
    parts: list = field(default_factory=list)


def runs(text):
    """The text as groups of parts, ready for the `m.text()` template macro."""
    text = str(text)
    classes = [set() for _ in text]
    for i in range(len(text) - 1):
        if text[i] in PUNCTUATION and text[i + 1] in PUNCTUATION:
            # The blank half of an opening mark is on its left: compress it; otherwise the
            # first mark, whose blank half faces the second.
            classes[i + 1 if text[i + 1] in OPENING else i].add("halt")
    for i, char in enumerate(text):
        # A quote between two Latin letters is an apostrophe (St. Anthony’s): it stays Latin.
        apostrophe = 0 < i < len(text) - 1 and _latin(text[i - 1]) and _latin(text[i + 1])
        if char in QUOTES and not apostrophe:
            classes[i].add("fwid")
    keep = [False] * len(text)
    for match in LATIN.finditer(text):
        start, end = match.span()
        # The gap and the characters on either side of it stay on one line: a gap at a line's
        # end or start would show as a short or indented line.
        if start > 0 and is_han(text[start - 1]):
            classes[start].add("gap-before")
            keep[start - 1] = keep[start] = True
        if end < len(text) and is_han(text[end]):
            classes[end - 1].add("gap-after")
            keep[end - 1] = keep[end] = True
    for match in re.finditer(f"[{GLUE_TO_PREVIOUS}]+", text):
        if match.start() > 0:
            for i in range(match.start() - 1, match.end()):
                keep[i] = True
    _keep_last_two(text, keep)
    return _group(text, classes, keep)


def _latin(char):
    return char.isascii() and char.isalnum() or "\u00c0" <= char <= "\u024f"


def _keep_last_two(text, keep):
    """Glue the last Han character of the text to the character before it (across a typed
    space: 為期 3 年。), with any marks after them."""
    end = len(text)
    while end > 0 and (text[end - 1] in PUNCTUATION or text[end - 1] in "…"):
        end -= 1
    if end < 2 or not is_han(text[end - 1]):
        return
    before = end - 2
    while before > 0 and text[before] == " ":
        before -= 1
    if is_han(text[before]) or text[before].isalnum():
        for i in range(before, len(text)):
            keep[i] = True


def _group(text, classes, keep):
    groups = []
    for i, char in enumerate(text):
        if not groups or groups[-1].nobr != keep[i]:
            groups.append(Group(keep[i]))
        parts = groups[-1].parts
        names = " ".join(sorted(classes[i]))
        if parts and parts[-1].classes == names == "":
            parts[-1].text += char
        else:
            parts.append(Part(char, names))
    return groups

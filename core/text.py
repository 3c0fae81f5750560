"""Plain-text normalisation of article bodies.

Every function here is pure: a string (or list of paragraphs) in, a cleaned
value out. ``transforms.normalize`` strings them together.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

# --------------------------------------------------------------------------- characters

_FTFY = ftfy.TextFixerConfig(
    uncurl_quotes=False,  # quotes and dashes stay as the author wrote them
    fix_line_breaks=True,
    fix_character_width=False,
    normalization="NFC",
    explain=False,
)
# C0/C1 controls except \t and \n, plus zero-width and invisible formatting characters.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_H_SPACE = re.compile(r"[^\S\n]+")


def fix_characters(text: str) -> str:
    """Repair mojibake, apply NFC, drop control and zero-width characters.

    ``'Russiaâ€™s'`` becomes ``'Russia’s'``; line breaks become ``\\n``.
    """
    if not text.isascii():
        text = ftfy.fix_text(text, _FTFY)
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text.replace("\t", " "))
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- paragraphs

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def split_paragraphs(text: str) -> list[str]:
    """Split a body into paragraphs and collapse whitespace inside each.

    Blank lines separate paragraphs when there are any. Otherwise, when lines
    are indented (hard-wrapped wire copy such as Reuters-21578) an indented line
    starts a paragraph and other line breaks are wraps. Otherwise every line is
    a paragraph (``\\n``-separated JSONL text).
    """
    if _BLANK_LINE.search(text):
        blocks = _BLANK_LINE.split(text)
        paras = [" ".join(b.split("\n")) for b in blocks]
    else:
        lines = text.split("\n")
        indented = sum(1 for ln in lines[1:] if ln[:1] in (" ", "\u00a0") and ln.strip())
        if indented >= 1 and len(lines) >= 3:
            paras, current = [], []
            for ln in lines:
                if ln[:1] in (" ", "\u00a0") and ln.strip() and current:
                    paras.append(" ".join(current))
                    current = []
                current.append(ln)
            paras.append(" ".join(current))
        else:
            paras = lines
    out = []
    for p in paras:
        p = _H_SPACE.sub(" ", p).strip()
        if p:
            out.append(p)
    return out


# --------------------------------------------------------------------------- spacing / detokenisation

_SPACE_BEFORE_PUNCT = re.compile(r"(?<=\S) +([.,;:!?%])(?=\s|$|[\"'”’)\]])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[{]) +")
_SPACE_BEFORE_CLOSE = re.compile(r" +([)\]}])")
_CONTRACTION = re.compile(r"(?<=\w) (n't|'s|'re|'ve|'ll|'d|'m|’s|’re|’ve|’ll|’d|’m)\b", re.IGNORECASE)
_SPACED_QUOTES = re.compile(r'(^|\s)" ([^"]*?) "(?=\s|$|[.,;:!?])')
_CURRENCY = re.compile(r"([$£€]) (?=\d)")
# Text each pattern above needs: most paragraphs (92% of Reuters) have none, and skip the six substitutions.
_SPACING_NEEDED = re.compile(r" [.,;:!?%)\]}]|[(\[{] | n't| ['’]|\" |[$£€] ", re.IGNORECASE)


def fix_spacing(paragraph: str) -> str:
    """Remove spaces that tokenisation or link stripping left before punctuation.

    ``'the war in Ukraine .'`` → ``'the war in Ukraine.'``;
    ``'U.S. officials said , ( 5 % )'`` → ``'U.S. officials said, (5%)'``;
    ``'do n't'`` → ``"don't"``. Dashes and quote characters are not changed.
    """
    if not _SPACING_NEEDED.search(paragraph):
        return paragraph
    p = _SPACE_BEFORE_PUNCT.sub(r"\1", paragraph)
    p = _SPACE_AFTER_OPEN.sub(r"\1", p)
    p = _SPACE_BEFORE_CLOSE.sub(r"\1", p)
    p = _CONTRACTION.sub(r"\1", p)
    p = _SPACED_QUOTES.sub(r'\1"\2"', p)
    p = _CURRENCY.sub(r"\1", p)
    return p


# --------------------------------------------------------------------------- datelines

AGENCIES = {
    "afp": "AFP",
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "reuters": "Reuters",
    "xinhua": "Xinhua",
    "tass": "Tass",
    "itar-tass": "Tass",
    "ria novosti": "RIA Novosti",
    "interfax": "Interfax",
    "bernama": "Bernama",
    "kyodo": "Kyodo",
    "yonhap": "Yonhap",
    "ansa": "ANSA",
    "dpa": "dpa",
    "efe": "EFE",
    "upi": "UPI",
    "pti": "PTI",
    "ians": "IANS",
    "bloomberg": "Bloomberg",
    "anadolu": "Anadolu",
    "antara": "Antara",
    "pa": "PA",
    "cna": "CNA",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "press association": "PA",
    "cnn": "CNN",
    "nyt": "NYT",
    "the new york times": "NYT",
    "the washington post": "The Washington Post",
    "straits times": "The Straits Times",
    "the straits times": "The Straits Times",
}

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’&-]*(?:[ /][A-Z][A-Z.'’&-]*){0,4}"  # ALL-CAPS place: BALI, WEST PALM BEACH
    r"|(?=[A-Z][a-z]+(?:[ ][A-Z][a-z]+){0,3},[ ]"
    + _MONTH
    + r"[ ]\d)[A-Z][a-z]+(?:[ ][A-Z][a-z]+){0,3})"  # Toronto, Feb 26
    r"(?:,[ ](?P<region>(?!"
    + _MONTH
    + r"[ ]\d)[A-Z][A-Za-z.'-]*(?:[ ][A-Z][A-Za-z.'-]*){0,3}))?"  # , Fla. / , United Arab Emirates
    r"(?:,?[ ](?P<date>" + _MONTH + r"[ ]\d{1,2}))?"  # , Feb 26
    r"[ ]?(?:\((?P<agencies>[^()]{2,60})\))?"  # (AFP, XINHUA)
    r"[ ]?(?P<dash>--|-|—|–|:)(?=\s|$)[ ]?"
)
_LOWER_WORDS = {"of", "and", "de", "la", "el", "du", "da", "del", "on", "upon"}


def _title_word(word: str) -> str:
    if word.lower() in _LOWER_WORDS:
        return word.lower()
    if re.fullmatch(r"(?:[A-Z]\.){2,}", word):
        return word  # N.J., D.C.
    parts = re.split(r"([-'’])", word)
    return "".join(p[:1].upper() + p[1:].lower() if p not in "-'’" else p for p in parts)


def normalise_place(place: str) -> str:
    """``'WEST PALM BEACH'`` → ``'West Palm Beach'``; mixed-case input is kept."""
    if place != place.upper():
        return place
    words = place.split(" ")
    titled = [_title_word(w) for w in words]
    if titled:
        titled[0] = titled[0][:1].upper() + titled[0][1:]
    return " ".join(titled)


def normalise_agency(name: str) -> str:
    """Canonical agency name: ``'XINHUA'`` → ``'Xinhua'``, ``'Agence France-Presse'`` → ``'AFP'``."""
    clean = name.strip().strip(".")
    known = AGENCIES.get(clean.lower())
    if known:
        return known
    if clean.isalpha() and clean.isupper() and len(clean) > 4:  # XINHUA → Xinhua; KPIX 5, CBS SF stay
        return clean.title()
    return clean


def extract_dateline(paragraph: str) -> tuple[dict | None, str]:
    """Remove a leading dateline from the first paragraph.

    Returns ``(dateline, rest)``; ``dateline`` is a dict with ``raw``,
    ``place``, ``date_text`` and ``agencies``, or None when there is none.
    """
    m = _DATELINE.match(paragraph)
    if not m:
        return None, paragraph
    place = m["place"].strip()
    letters = re.sub(r"[^A-Za-z]", "", place)
    rest = paragraph[m.end() :].lstrip()
    # An all-caps place of at least two letters, a real separator, and a body after it.
    if len(letters) < 2 or not rest or not (rest[0].isupper() or rest[0] in "\"“‘'(<0123456789"):
        return None, paragraph
    if m["dash"] == ":" and not (m["date"] or m["agencies"]):
        return None, paragraph  # 'WARNING: ...' is not a dateline
    if not (m["region"] or m["date"] or m["agencies"]) and len(place) > 40:
        return None, paragraph
    full_place = normalise_place(place)
    if m["region"]:
        full_place = f"{full_place}, {normalise_place(m['region'])}"
    agencies = []
    if m["agencies"]:
        for part in re.split(r"[,/;]| and ", m["agencies"]):
            if part.strip():
                agencies.append(normalise_agency(part))
    dateline = {
        "raw": paragraph[: m.end()].strip(),
        "place": full_place,
        "date_text": m["date"],
        "agencies": agencies,
    }
    return dateline, rest


# --------------------------------------------------------------------------- credits and bylines

_CREDIT_START = (
    r"(?:Additional reporting by|Reporting by|Reported by|Writing by|Written by|Editing by|Edited by|"
    r"Compiled by|Translated by|With reporting by|Research by|Contributing:|Contributors?:|"
    r"(?:The )?Associated Press (?:writers?|reporters?|contributed)|"
    r"(?:[A-Z][\w.'-]+ ){1,4}(?:contributed|also contributed) (?:to )?this (?:report|story|article))"
)
_CREDIT_SENTENCE = re.compile(r"(?:^|(?<=[.!?\"”’])\s+)\(?(?P<credit>" + _CREDIT_START + r"[^()]{0,240}?)\)?\s*$")
_BYLINE = re.compile(
    r"^(?:By|BY)\s+(?P<names>[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|de|van|von|al|bin|and|&|,))*"
    r"(?:\s*(?:,|/|-|—)\s*[A-Z][\w .&'-]{1,60})?)$"
)


def extract_credits(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Move trailing credit lines and a leading byline into a credits list.

    ``'... assistance. Additional reporting by Reuters'`` keeps the sentence
    and moves ``'Additional reporting by Reuters'`` to credits.
    Returns ``(credits, paragraphs)``.
    """
    credits: list[str] = []
    paras = list(paragraphs)
    if paras and len(paras[0]) <= 120 and _BYLINE.match(paras[0]):
        credits.append(paras.pop(0))
    trailing: list[str] = []
    while paras:
        m = _CREDIT_SENTENCE.search(paras[-1])
        if not m:
            break
        trailing.insert(0, m["credit"].strip().rstrip(")"))
        head = paras[-1][: m.start()].rstrip()
        if head:
            paras[-1] = head
            break
        paras.pop()
    return credits + trailing, paras


_AGENCY_NAMES = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(AGENCIES, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def agencies_in_credits(credits: list[str]) -> list[str]:
    """Agency names mentioned in credit lines, canonical and in order of appearance.

    Short names (``AP``, ``PA``) count only in capitals; others need a capital initial.
    """
    found = []
    for credit in credits:
        for m in _AGENCY_NAMES.finditer(credit):
            word = m.group(1)
            if (len(word) <= 3 and not word.isupper()) or not word[0].isupper():
                continue
            name = AGENCIES[word.lower()]
            if name not in found:
                found.append(name)
    return found


# --------------------------------------------------------------------------- boilerplate

# Page furniture, matched case-insensitively. Nearly all patterns hold at a paragraph's start; they are one regex
# anchored there, which fails at once on an ordinary paragraph (one search per pattern took twice as long, and one
# unanchored alternation of all of them three times as long). The few that may match anywhere are searched apart.
_BOILERPLATE_AT_START = (
    r"you must enter the characters with black color",
    r"please enable javascript",
    r"(?:advertisement|advertising|sponsored|close|email|print|twitter|facebook|pinterest|google\+?|linkedin|reddit|whatsapp|share|tweet|comments?)$",
    r"share this(?: article| story)?[:!]?(?:\s+\w+)?$",
    r"like this: like loading",
    r"(?:your notification has been saved|there was a problem saving your notification)",
    r"email notifications are only sent once a day",
    r"thank you for registering",
    r"just one more thing",
    r"if you do not receive the verification message",
    r"we have sent (?:you )?a (?:verification|confirmation) email",
    r"(?:email newsletters )?sign up for (?:one of )?our (?:email )?newsletters?",
    r"already have an account\??$",
    r"by submitting your registration information",
    r"click here to return to the page",
    r"(?:copyright|©|\(c\))\s*(?:\d{4}|by)\b.{0,160}$",
    r"this material may not be published, broadcast, rewritten or redistributed",
    r"(?:join the conversation|stay up to date|follow [\w.]+)\b.{0,60}(?:facebook|twitter|instagram)\W*$",
    r"follow [\w.]+: facebook",
    r"(?:subscribe|sign up|register) (?:now|today|here)\b.{0,80}$",
    r"we use cookies\b",
    r"this (?:site|website) uses cookies\b",
    r"(?:read more|related|more coverage|watch|video|photos?|image \d+ of \d+)\s*[:|].{0,100}$",
    r"report an error or submit a tip",
    r"for more neighborhood news, listen to",
    r"###(?:ppb|original message below)###$",
    r"[-_=*#~]{3,}$",
    r"posted: .{0,80}(?:updated: .{0,60})?$",
)
_BOILERPLATE_ANYWHERE = (
    r"all rights reserved\.?$",
    r"\baccept (?:all )?cookies\b.{0,40}$",
)
_BOILERPLATE_START = re.compile("|".join(f"(?:{p})" for p in _BOILERPLATE_AT_START), re.IGNORECASE)
_BOILERPLATE_SEARCH = [re.compile(p, re.IGNORECASE) for p in _BOILERPLATE_ANYWHERE]


def is_boilerplate(paragraph: str) -> bool:
    """True for page furniture: share/subscribe/cookie/copyright lines and the like.

    Conservative: only short paragraphs (≤ 300 chars) matching a known pattern.
    """
    if len(paragraph) > 300:
        return False
    return _BOILERPLATE_START.match(paragraph) is not None or any(p.search(paragraph) for p in _BOILERPLATE_SEARCH)


_POSTED_PREFIX = re.compile(
    r"^(?P<head>.{0,200}?)\s*Posted: \w+, \w+ \d{1,2}, \d{4} \d{1,2}:\d{2} [AP]M \w{2,4}"
    r"(?: Updated: \w+, \w+ \d{1,2}, \d{4} \d{1,2}:\d{2} [AP]M \w{2,4})?$"
)


def remove_boilerplate(paragraphs: list[str]) -> tuple[list[str], int]:
    """Drop boilerplate paragraphs; returns ``(kept, number_removed)``."""
    kept = []
    removed = 0
    for p in paragraphs:
        if is_boilerplate(p):
            removed += 1
            continue
        m = _POSTED_PREFIX.match(p) if "Posted: " in p else None  # the literal it needs: most paragraphs lack it
        if m:  # 'Headline Posted: Tuesday, ... EST Updated: ...' keeps the headline
            removed += 1
            if m["head"].strip():
                kept.append(m["head"].strip())
            continue
        kept.append(p)
    return kept, removed


# --------------------------------------------------------------------------- titles, keys, counts

_SENTENCE_END = re.compile(
    r"(?<![A-Z])(?<!\b(?:Mr|Ms|Dr|St|No|Jr|Sr|Mt|Lt|vs))(?<!\bMrs)(?<!\bGen|\bGov|\bSen|\bRep|\bCol|\bSgt)[.!?](?=\s+[\"“‘'(]?[A-Z0-9])"
)
TITLE_MAX = 110


def derive_title(text: str, limit: int = TITLE_MAX) -> str:
    """The lead sentence, cut at a word boundary to at most ``limit`` characters."""
    first = text.split("\n", 1)[0].strip()
    m = _SENTENCE_END.search(first)
    sentence = first[: m.start()] if m else first.rstrip(".!?")
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(",;:-–— ") + "…"


_KEY_TRANSLATE = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "‛": "'",
        "`": "'",
        "´": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
        "‒": "-",
        "―": "-",
    }
)
_KEY_DROP = re.compile(r"[^\w\s]|_", re.UNICODE)
# The same substitution for ASCII text as a translation table (derived from the regex, char by char): four times
# faster, and nearly all wire copy is ASCII.
_KEY_DROP_ASCII = str.maketrans({c: " " for c in map(chr, range(128)) if _KEY_DROP.fullmatch(c)})


def dedup_key(text: str) -> str:
    """Key normalisation for content hashing: case, quotes, dashes, punctuation and spacing folded."""
    key = unicodedata.normalize("NFKC", text).translate(_KEY_TRANSLATE).casefold()
    key = key.translate(_KEY_DROP_ASCII) if key.isascii() else _KEY_DROP.sub(" ", key)
    return " ".join(key.split())


_WORD = re.compile(r"\w+(?:[-'’.]\w+)*", re.UNICODE)


def word_count(text: str) -> int:
    """Number of words (runs of letters/digits, with inner hyphens and apostrophes)."""
    return len(_WORD.findall(text))

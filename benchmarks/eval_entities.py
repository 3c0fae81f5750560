"""Score entity recognition on CoNLL++ (CoNLL-2003 test, corrected): raw spaCy vs newsbeam.

    .venv/bin/python -m benchmarks.eval_entities [--data ../shared/eval/conllpp_test_docs.jsonl]

Both columns score the same spaCy spans over the same document text; newsbeam's
column is those spans after its rules (label fixes, title/"the"/possessive
stripping, lone-surname joining, gazetteer and knowledge-base labels), i.e.
``core.entities.resolve_mentions``. Typed scores are exact-span micro P/R/F1
over PER, ORG and LOC (spaCy PERSON→PER, ORG→ORG, GPE/LOC/FAC→LOC); span-only
scores ignore the type and include MISC (NORP, EVENT, PRODUCT, WORK_OF_ART,
LAW, LANGUAGE). Numeric and temporal labels are not entities in CoNLL.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from core.entities import EntityConfig, Gazetteer, Span, resolve_mentions
from transforms.enrich import load_ner

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "conllpp_test_docs.jsonl"
TO_CONLL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
MISC = {"NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}


def conll_label(label: str) -> str | None:
    return TO_CONLL.get(label) or ("MISC" if label in MISC else None)


def prf(gold: set, pred: set) -> tuple[float, float, float]:
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(gold: set, pred: set) -> dict:
    typed_gold = {g for g in gold if g[3] != "MISC"}
    typed_pred = {p for p in pred if p[3] != "MISC"}
    p, r, f = prf(typed_gold, typed_pred)
    _, _, span_f = prf({g[:3] for g in gold}, {x[:3] for x in pred})
    return {"P": p, "R": r, "F1": f, "span_F1": span_f}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default=EntityConfig().model)
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"eval data not found: {args.data}", file=sys.stderr)
        return 2
    docs = [orjson.loads(line) for line in args.data.read_bytes().splitlines() if line.strip()]
    nlp = load_ner(args.model)
    gaz = Gazetteer()
    gaz.warm()
    gold, raw, ours = set(), set(), set()
    t0 = time.perf_counter()
    for doc, parsed in zip(docs, nlp.pipe((d["text"] for d in docs), batch_size=32), strict=True):
        i = doc["doc_index"]
        gold |= {(i, e["start"], e["end"], e["label"]) for e in doc["entities"]}
        spans = [Span(e.text, e.label_, e.start_char) for e in parsed.ents]
        for e in parsed.ents:
            if conll_label(e.label_):
                raw.add((i, e.start_char, e.end_char, conll_label(e.label_)))
        for m in resolve_mentions(doc["text"], spans, gaz):
            if conll_label(m.label):
                ours.add((i, m.start, m.end, conll_label(m.label)))
    seconds = time.perf_counter() - t0
    rows = {"raw spaCy": score(gold, raw), "newsbeam": score(gold, ours)}
    print(f"CoNLL++ test: {len(docs)} documents, {len(gold)} gold entities, model {args.model}, {seconds:.1f} s")
    print(f"{'':<10} {'typed P':>8} {'typed R':>8} {'typed F1':>9} {'span F1':>8}")
    for name, s in rows.items():
        print(f"{name:<10} {s['P']:>8.3f} {s['R']:>8.3f} {s['F1']:>9.3f} {s['span_F1']:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

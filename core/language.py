"""Language identification: py3langid's bundled model with its byte scan done by numpy.

py3langid finds its byte n-gram features by walking an Aho-Corasick automaton
one byte at a time in a Python loop, which was a third of normalisation's
time. The automaton's state after a byte is the longest suffix of the text so
far that is a node of its trie, and no node is deeper than ``depth`` bytes, so
the state at every position is also the state reached by walking from the
root over just the last ``depth`` bytes. ``feature_counts`` takes those
``depth`` steps for all positions at once. The counts, their order and hence
every score are exactly py3langid's (``tests/test_language.py`` compares the
two on texts in eight scripts and on random bytes).
"""

from __future__ import annotations

import numpy as np
from py3langid.langid import MODEL_FILE
from py3langid.langid import LanguageIdentifier as _Py3Identifier


class DfaTables:
    """An Aho-Corasick automaton over bytes, as numpy arrays: ``next[rowbase[state] + byte]`` is the next state,
    ``output[state]`` the feature found there (−1 for none), ``depth`` the deepest state's distance from the root."""

    def __init__(self, nextmove, rowbase, output):
        self.next = np.asarray(nextmove, dtype=np.int32)
        self.rowbase = np.asarray(rowbase, dtype=np.int32)
        self.output = np.asarray(output, dtype=np.int32)
        self.depth = self._max_depth()

    def _max_depth(self) -> int:
        """Breadth-first from the root, one level at a time: a state's distance is the length of the suffix it
        stands for."""
        seen = np.zeros(len(self.rowbase), dtype=bool)
        seen[0] = True
        frontier, depth = np.array([0]), 0
        while True:
            reached = np.zeros_like(seen)
            reached[self.next[(self.rowbase[frontier][:, None] + np.arange(256)).ravel()]] = True
            frontier = np.flatnonzero(reached & ~seen)
            if not len(frontier):
                return depth
            seen[frontier] = True
            depth += 1


def feature_counts(tables: DfaTables, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The features found in ``data`` and how often, in order of first occurrence (as ``Counter`` would list
    them); two empty arrays when there are none."""
    text = np.frombuffer(data, dtype=np.uint8).astype(np.int32)
    n = len(text)
    states = np.zeros(n, dtype=np.int32)
    for back in range(min(tables.depth, n) - 1, -1, -1):
        # Position i takes the byte at i − back; positions before the text's start stay at the root.
        moved = tables.next[tables.rowbase[states[back:]] + text[: n - back]]
        states[back:] = moved
    found = tables.output[states]
    found = found[found >= 0]
    if not len(found):
        return found, found
    # One sort of (feature, position) keys: each feature's run starts at its first position.
    keys = np.sort((found.astype(np.int64) << 32) | np.arange(len(found), dtype=np.int64))
    features = keys >> 32
    starts = np.flatnonzero(np.concatenate(([True], features[1:] != features[:-1])))
    counts = np.diff(starts, append=len(keys))
    order = np.argsort(keys[starts] & 0xFFFFFFFF)
    return features[starts][order], counts[order]


class LanguageIdentifier(_Py3Identifier):
    """py3langid's identifier (normalised probabilities) with the numpy byte scan; ``classify`` is unchanged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tables = DfaTables(self.tk_nextmove, self._rowbase, self.tk_output)
        self.tk_nextmove = self.tables.next  # one copy of the 39 MB transition table per worker, not two
        self._start_rows32()

    def _start_rows32(self) -> None:
        """The model's float16 rows are converted to float32 once each, when a text first uses them: numpy
        converts float16 in software, and the same n-grams recur in text after text. A row is stored in the next
        free slot (``_slot``: feature → slot, −1 until used), so the rows in use lie together, and as np.zeros
        maps pages on first write, only they take memory (Reuters uses 25,281 of 100,053 rows: 14 MB; 57 MB at
        most)."""
        self._rows32 = np.zeros(self.nb_ptc.shape, dtype=np.float32)
        self._slot = np.full(len(self.nb_ptc), -1, dtype=np.int32)
        self._used = 0

    def set_languages(self, langs=None):
        """py3langid's, which replaces the model's table; the float32 rows start again from the new one."""
        super().set_languages(langs)
        self._start_rows32()

    def __call__(self, text: str) -> tuple[str, float]:
        """A text in; its language code and confidence (0–1) out."""
        code, confidence = self.classify(text)
        return code, float(confidence)

    def _raw_score(self, text: bytes) -> np.ndarray:
        features, counts = feature_counts(self.tables, text)
        if not len(features):
            return super()._raw_score(text)  # no features: py3langid's own fallback scores
        fresh = features[self._slot[features] < 0]  # distinct: a text's features are listed once each
        if len(fresh):
            slots = np.arange(self._used, self._used + len(fresh), dtype=np.int32)
            self._rows32[slots] = self.nb_ptc[fresh]
            self._slot[fresh] = slots
            self._used += len(fresh)
        # The same float32 values py3langid's product converts on the fly, so the same scores, bit for bit.
        return np.log1p(counts.astype(np.float32)) @ self._rows32[self._slot[features]] + self.nb_pc


def load_identifier() -> LanguageIdentifier:
    """py3langid's bundled model (offline), with normalised probabilities; loaded once per worker."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

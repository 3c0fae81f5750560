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

Loading the packaged model costs about 0.7 s per worker (LZMA decompression,
then building the tables). ``load_identifier`` keeps the finished arrays in a
local cache directory, one uncompressed ``.npy`` file each, and maps them into
memory on later loads: a few milliseconds, and the worker processes of one
machine share the pages. The cache is named after the model file's SHA-256, is
written under a temporary name and renamed into place, and is only ever an
optimisation: a worker that cannot read or write it builds the tables itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import orjson
from py3langid.langid import MODEL_DIR, MODEL_FILE
from py3langid.langid import LanguageIdentifier as _Py3Identifier

CACHE_ENV = "NEWSBEAM_CACHE_DIR"
CACHE_LAYOUT = 1  # bump when the cached arrays change meaning
_ARRAYS = ("ptc", "pc", "next", "rowbase", "output")


class DfaTables:
    """An Aho-Corasick automaton over bytes, as numpy arrays: ``next[rowbase[state] + byte]`` is the next state,
    ``output[state]`` the feature found there (−1 for none), ``depth`` the deepest state's distance from the root."""

    def __init__(self, nextmove, rowbase, output, depth: int | None = None):
        self.next = np.asarray(nextmove, dtype=np.int32)
        self.rowbase = np.asarray(rowbase, dtype=np.int32)
        self.output = np.asarray(output, dtype=np.int32)
        self.depth = self._max_depth() if depth is None else depth

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
    """py3langid's identifier (normalised probabilities) with the numpy byte scan; ``classify`` is unchanged.

    Made from the model's class scores (``nb_ptc``: feature × class, float16; ``nb_pc``: class priors), its
    class labels and its automaton as ``DfaTables``; ``load_identifier`` makes one."""

    def __init__(self, nb_ptc, nb_pc, nb_classes: list[str], tables: DfaTables, **kwargs):
        # py3langid's own attributes name the same arrays, for its fallback walk (``_raw_score`` without features).
        super().__init__(nb_ptc, nb_pc, nb_classes, tables.next, tables.output, tk_row=(), **kwargs)
        self._rowbase = tables.rowbase
        self.tables = tables
        self._start_rows32()

    @classmethod
    def from_model_file(cls, model_file, *args, **kwargs) -> LanguageIdentifier:
        """py3langid's constructor from a model file (its arguments as py3langid takes them), uncached."""
        return cls.from_arrays(*build_arrays(_model_path(model_file)), *args, **kwargs)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict, *args, **kwargs) -> LanguageIdentifier:
        """``build_arrays``' (or the cache's) arrays and metadata in; an identifier over them out."""
        tables = DfaTables(arrays["next"], arrays["rowbase"], arrays["output"], depth=meta["depth"])
        return cls(arrays["ptc"], arrays["pc"], meta["classes"], tables, *args, **kwargs)

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


def default_cache_dir() -> Path | None:
    """``$NEWSBEAM_CACHE_DIR`` if set (empty: no cache), else ``$XDG_CACHE_HOME/newsbeam`` or ``~/.cache/newsbeam``."""
    if CACHE_ENV in os.environ:
        return Path(os.environ[CACHE_ENV]) if os.environ[CACHE_ENV] else None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsbeam"


def _model_path(model_file=MODEL_FILE) -> Path:
    """A model file's path, as py3langid resolves it (a relative name is in its data directory)."""
    path = Path(model_file)
    return path if path.is_absolute() else MODEL_DIR / path


def build_arrays(model_path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """py3langid's packaged model file in; the arrays the identifier uses and ``{"classes", "depth"}`` out."""
    from py3langid.modelio import load_model  # noqa: PLC0415 (only needed when the cache misses)

    ptc, pc, classes, nextmove, row, output = load_model(model_path)
    rowbase = np.asarray(row, dtype=np.int32) << 8  # py3langid's pre-shifted row offsets
    tables = DfaTables(nextmove, rowbase, output)
    arrays = {
        "ptc": np.asarray(ptc),
        "pc": np.asarray(pc),
        "next": tables.next,
        "rowbase": tables.rowbase,
        "output": tables.output,
    }
    return arrays, {"classes": list(classes), "depth": tables.depth}


def _read_cache(entry: Path) -> tuple[dict[str, np.ndarray], dict] | None:
    """The cached arrays, memory-mapped read-only, and their metadata; None if the entry is missing or unreadable."""
    try:
        meta = orjson.loads((entry / "meta.json").read_bytes())
        arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    except (OSError, ValueError):
        return None
    if not _consistent(arrays, meta):
        return None
    # Plain ndarray views of the maps: the scan's many small operations skip np.memmap's subclass wrapping.
    return {name: np.asarray(a) for name, a in arrays.items()}, meta


def _consistent(arrays: dict[str, np.ndarray], meta: dict) -> bool:
    """Whether cached arrays fit together as one model, every index in range (a damaged or foreign entry is
    rebuilt, not used: the scan must never index outside a table)."""
    ptc, pc, nxt, rowbase, output = (arrays[name] for name in _ARRAYS)
    return (
        isinstance(meta, dict)
        and isinstance(meta.get("depth"), int)
        and isinstance(meta.get("classes"), list)
        and ptc.ndim == 2
        and ptc.shape[1] == len(pc) == len(meta["classes"])
        and all(a.dtype == np.int32 and a.ndim == 1 and len(a) for a in (nxt, rowbase, output))
        and len(nxt) % 256 == 0
        and len(rowbase) == len(output)
        and 0 <= nxt.min()
        and nxt.max() < len(rowbase)  # a state
        and 0 <= rowbase.min()
        and rowbase.max() + 256 <= len(nxt)  # a row's start
        and -1 <= output.min()
        and output.max() < len(ptc)  # a feature, or none
    )


def _write_cache(entry: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Writes the entry whole under a temporary name and renames it into place; a concurrent writer's entry
    (same content) wins, and a failure to write leaves nothing behind."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    except OSError:
        return
    try:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", arrays[name], allow_pickle=False)
        (tmp / "meta.json").write_bytes(orjson.dumps(meta))
        os.rename(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def load_identifier(cache_dir: Path | str | None = "default") -> LanguageIdentifier:
    """py3langid's bundled model (offline), with normalised probabilities; loaded once per worker.

    ``cache_dir`` holds the finished arrays between runs (``"default"``: ``default_cache_dir()``; None: no
    cache). A cached and a freshly built identifier give the same scores, bit for bit."""
    cache_dir = default_cache_dir() if cache_dir == "default" else cache_dir
    model_path = _model_path()
    loaded = None
    if cache_dir is not None:
        digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:20]
        entry = Path(cache_dir) / f"langid-{digest}-v{CACHE_LAYOUT}"
        loaded = _read_cache(entry)
    if loaded is None:
        loaded = build_arrays(model_path)
        if cache_dir is not None:
            shutil.rmtree(entry, ignore_errors=True)  # a damaged entry is replaced
            _write_cache(entry, *loaded)
    return LanguageIdentifier.from_arrays(*loaded, norm_probs=True)

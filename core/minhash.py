"""MinHash LSH for near-duplicate articles (plain functions).

An article's text is reduced to its dedup key (``core.text.dedup_key``), cut
into overlapping word n-grams (shingles), hashed with CRC-32 (stable across
processes, unlike ``hash``), and summarised by ``bands × rows`` MinHash values
from seeded universal hash functions. Articles sharing any band are
candidates; a candidate pair is a near duplicate only if the exact Jaccard
similarity of the shingle sets reaches ``jaccard_threshold`` *and* every
figure of the shorter text appears in the longer one (``same_figures``): a
re-filed story may add figures, but recurring template reports (weekly
commodity reviews, dividend notices) share most of their wording and differ
in their figures, and must not collapse.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from core.text import dedup_key

_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class DedupConfig:
    """Near-duplicate tuning; recorded in the manifest.

    With 16 bands of 8 rows, pairs at Jaccard 0.8 become candidates with
    probability 1 - (1 - 0.8^8)^16 ≈ 0.93 and pairs at 0.5 with ≈ 0.06.
    """

    shingle_size: int = 5
    bands: int = 16
    rows: int = 8
    seed: int = 42
    jaccard_threshold: float = 0.8
    same_figures: bool = True
    max_bucket_size: int = 200

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def as_dict(self) -> dict:
        return asdict(self)


def shingles(text: str, size: int) -> np.ndarray:
    """Sorted unique CRC-32 hashes of the word ``size``-grams of the dedup key of ``text``.

    The key's words are separated by single spaces, so a gram is a slice of the encoded key (no joining)."""
    data = dedup_key(text).encode()
    if not data:
        return np.zeros(0, dtype=np.uint64)
    spaces = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 32).tolist()
    if len(spaces) + 1 < size:
        return np.array([zlib.crc32(data)], dtype=np.uint64)
    starts, ends = [0, *(i + 1 for i in spaces)], [*spaces, len(data)]
    count = len(starts) - size + 1
    crc32 = zlib.crc32
    hashes = (crc32(data[start:end]) for start, end in zip(starts[:count], ends[size - 1 :], strict=True))
    return np.unique(np.fromiter(hashes, dtype=np.uint64, count=count))


def permutations(config: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(config.seed)
    a = rng.integers(1, (1 << 32) - 1, size=config.num_perm, dtype=np.uint64)
    b = rng.integers(0, (1 << 32) - 1, size=config.num_perm, dtype=np.uint64)
    return a, b


def signature(shingle_hashes: np.ndarray, config: DedupConfig, perms=None) -> np.ndarray:
    """``num_perm`` MinHash values (uint32 range) of a shingle set."""
    a, b = perms if perms is not None else permutations(config)
    if shingle_hashes.size == 0:
        return np.full(config.num_perm, _MAX32, dtype=np.uint64)
    hashed = np.outer(a, shingle_hashes)
    hashed += b[:, None]
    hashed = _mod_mersenne(hashed)
    hashed &= _MAX32
    return hashed.min(axis=1)


def _mod_mersenne(x: np.ndarray) -> np.ndarray:
    """``x % (2⁶¹ − 1)`` for uint64 ``x`` without a division: ``x = hi·2⁶¹ + lo ≡ hi + lo``, and ``hi + lo`` is
    below 2 × (2⁶¹ − 1), so at most one subtraction is left; where none is due, the subtraction wraps around
    above ``hi + lo`` and the minimum keeps ``hi + lo``. (``a·h + b`` with ``a, h, b < 2³²`` stays below 2⁶⁴.)
    """
    folded = x & _MERSENNE
    folded += x >> np.uint64(61)
    return np.minimum(folded, folded - _MERSENNE)


def band_keys(sig: np.ndarray, config: DedupConfig) -> list[str]:
    """One LSH bucket key per band: ``"<band>:<digest of the band's rows>"``."""
    keys = []
    for band in range(config.bands):
        chunk = sig[band * config.rows : (band + 1) * config.rows].astype("<u8").tobytes()
        keys.append(f"{band}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def numbers_in(text: str) -> list[str]:
    """The figures in a text, in order, thousands separators folded (``'155,221'`` → ``'155221'``)."""
    return [n.replace(",", "") for n in _NUMBER.findall(text)]


def figures_contained(a: list[str], b: list[str]) -> bool:
    """True when every figure of the text with fewer figures also appears in the other (as multisets)."""
    small, large = sorted((Counter(a), Counter(b)), key=lambda c: sum(c.values()))
    return not (small - large)


def near_duplicate(text_a: str, text_b: str, config: DedupConfig) -> tuple[bool, float]:
    """Confirm a candidate pair: ``(is_near_duplicate, exact shingle Jaccard)``."""
    sim = jaccard(shingles(text_a, config.shingle_size), shingles(text_b, config.shingle_size))
    ok = sim >= config.jaccard_threshold and (
        not config.same_figures or figures_contained(numbers_in(text_a), numbers_in(text_b))
    )
    return ok, sim

"""Event time for streaming runs: which window an article belongs to, and when that window closes.

Event time is the publication date (UTC). An article published on day ``D``
may arrive up to ``lateness_hours`` after the end of its window and still be
grouped with it: its timestamp is midnight UTC of ``D`` *plus* the allowed
lateness, and windows are fixed spans of ``window_days`` shifted by the same
amount. A window therefore closes (the watermark passes its end) exactly when
the allowed lateness of its last publication day has run out, and every
grouping step downstream fires once per window with everything that belongs
to it: no late panes, no double counting across stages. The price is latency:
a window's results come out ``lateness_hours`` after its last day ends.

An article whose arrival time (the timestamp its source gave it) is past its
window's end is too late: the watermark may already have passed the window,
and a grouping step would drop it without a trace. It goes to the dead-letter
output instead. This relies on the source's watermark never running ahead of
the arrival times it has yet to emit, which is what a watermark promises.

Undated articles keep their arrival time as event time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

DAY_SECONDS = 86_400


@dataclass(frozen=True)
class WindowConfig:
    """Windowing of a streaming run: window length in publication days, and the allowed lateness."""

    window_days: int = 1  # publication days per window: copies and stories are found within a window
    lateness_hours: int = 24  # how long after its window's last day an article is still accepted

    def __post_init__(self):
        if self.window_days < 1 or self.lateness_hours < 0:
            raise ValueError(f"invalid window configuration: {self}")

    @property
    def size_seconds(self) -> int:
        return self.window_days * DAY_SECONDS

    @property
    def lateness_seconds(self) -> int:
        return self.lateness_hours * 3600

    @property
    def offset_seconds(self) -> int:
        """The shift of the fixed windows, so each starts at a UTC midnight plus the lateness."""
        return self.lateness_seconds % self.size_seconds


def event_timestamp(published_date: str | None, config: WindowConfig) -> int | None:
    """An ISO date (UTC) in; its shifted event time in seconds since the epoch out (None when undated)."""
    if not published_date:
        return None
    midnight = datetime.combine(date.fromisoformat(published_date), datetime.min.time(), UTC)
    return int(midnight.timestamp()) + config.lateness_seconds


def window_end(timestamp: float, config: WindowConfig) -> int:
    """An event time in seconds in; the end (exclusive, seconds) of the window holding it out."""
    size, offset = config.size_seconds, config.offset_seconds
    return (int(timestamp) - offset) // size * size + offset + size


def window_first_date(window_start: float, config: WindowConfig) -> str:
    """The start of a (shifted) window in seconds; the first publication date it holds (ISO, UTC) out."""
    start = datetime.fromtimestamp(window_start - config.lateness_seconds, UTC)
    return start.date().isoformat()

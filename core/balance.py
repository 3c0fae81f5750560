"""Work units of near-equal cost, so that the workers of a stage finish together.

A runner hands a stage's input to its workers by key: the FnApiRunner
(``multi_processing``) deals the keys of a ``GroupByKey`` out to its workers in
turn, a distributed runner splits them into key ranges. Keyed by article, the
NER stage's workers get the same number of articles but not the same number
of words, and one waits for the other at the end. Keyed by work unit, each
holding about ``unit_cost`` of work, any fair share of the keys is a fair
share of the work.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable


def plan_units(costs: Iterable[tuple[str, int]], unit_cost: int) -> dict[str, int]:
    """``(id, cost)`` pairs in; ``{id: unit}`` out, the units numbered from 0.

    ``ceil(total cost / unit_cost)`` units (at least one), filled largest item
    first, each into the least loaded unit (ties: the lower unit number); items
    of equal cost go in id order. Any two units' loads then differ by at most
    the largest single cost. Deterministic: the same pairs, in any order, give
    the same plan. Items of cost 0 go to units in turn.
    """
    if unit_cost <= 0:
        raise ValueError(f"unit_cost must be positive, not {unit_cost}")
    items = sorted(costs, key=lambda item: (-item[1], item[0]))
    if not items:
        return {}
    total = sum(cost for _, cost in items)
    n_units = max(1, math.ceil(total / unit_cost))
    loads = [(0, unit) for unit in range(n_units)]  # a valid heap already
    plan: dict[str, int] = {}
    for key, cost in items:
        load, unit = heapq.heappop(loads)
        plan[key] = unit
        # A free item still moves the unit behind the others with the same load, so free items spread out.
        heapq.heappush(loads, (load + cost, unit) if cost else (load, unit + n_units))
    return {key: unit % n_units for key, unit in plan.items()}

"""Work units of near-equal cost (core.balance), as the near-copy stage plans them."""

from __future__ import annotations

import math
import random

import pytest

from core.balance import plan_units
from transforms.dedup import plan_work_units


def _loads(plan: dict[str, int], costs: dict[str, int]) -> dict[int, int]:
    loads: dict[int, int] = {}
    for key, unit in plan.items():
        loads[unit] = loads.get(unit, 0) + costs[key]
    return loads


def test_units_hold_near_equal_work_and_every_item():
    rng = random.Random(7)
    costs = {f"a{i:05d}": int(rng.lognormvariate(7, 1)) for i in range(5000)}  # skewed, like article lengths
    plan = plan_units(costs.items(), unit_cost=40_000)
    assert set(plan) == set(costs)
    n_units = math.ceil(sum(costs.values()) / 40_000)
    assert set(plan.values()) == set(range(n_units))
    loads = _loads(plan, costs).values()
    assert max(loads) - min(loads) <= max(costs.values())


def test_halves_of_the_units_hold_near_equal_work():
    """What a runner dealing the units out to two workers in turn gives each: within a unit's size of half."""
    rng = random.Random(11)
    costs = {f"a{i:05d}": int(rng.lognormvariate(7, 1.2)) for i in range(8000)}
    plan = plan_units(costs.items(), unit_cost=50_000)
    loads = _loads(plan, costs)
    units = list(loads)
    rng.shuffle(units)  # the order the keys reach the runner is arbitrary
    first = sum(loads[u] for u in units[0::2])
    total = sum(costs.values())
    assert abs(first - total / 2) <= 50_000 + max(costs.values())


def test_plan_is_the_same_for_any_order_of_its_input():
    rng = random.Random(3)
    items = [(f"id{i}", rng.choice([0, 5, 5, 100, 2000])) for i in range(300)]
    plan = plan_units(items, unit_cost=1000)
    for _ in range(5):
        rng.shuffle(items)
        assert plan_units(items, unit_cost=1000) == plan


def test_free_items_spread_over_the_units():
    plan = plan_units([("big", 10), *((f"free{i}", 0) for i in range(6))], unit_cost=4)
    assert sorted(plan.values()).count(0) <= 3  # three units; the free items go round them
    assert set(plan.values()) == {0, 1, 2}


def test_empty_and_invalid_input():
    assert plan_units([], unit_cost=10) == {}
    assert plan_units([("only", 0)], unit_cost=10) == {"only": 0}
    with pytest.raises(ValueError):
        plan_units([("a", 1)], unit_cost=0)


def test_copies_do_not_count_and_follow_their_survivor():
    assignment = {"copy": ("keep", 0.9), "keep": ("keep", 1.0)}
    plan = plan_work_units([("keep", 10), ("copy", 10), ("other", 10)], assignment, unit_cost=10)
    assert set(plan) == {"keep", "other"}  # a copy is keyed by its survivor's unit
    assert plan["keep"] != plan["other"]

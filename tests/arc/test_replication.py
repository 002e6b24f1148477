"""Figures over replicates (held-out splits): per split, pooled, paired; the two-level interval widens when splits disagree."""

import pytest

from arcray.arc.replication import goal, pooled_figures, split_figures
from arcray.arc.scoring import TaskScore
from arcray.stats import excludes_zero, paired_values, pooled_figure


def scores(prefix: str, solved: list[bool], runnable: float = 0.5) -> list[TaskScore]:
    return [TaskScore(task_id=f"{prefix}{i}", solved=s, solved_first=s, train_fit=s, runnable=runnable, programs=8)
            for i, s in enumerate(solved)]


def test_one_split_pairs_the_students_on_their_shared_tasks():
    base = scores("t", [True, False, False, False])
    tuned = scores("t", [True, True, True, False], runnable=0.75)
    figures = split_figures({"base": base, "fine-tuned": tuned})
    assert figures["base"]["solved"]["value"] == 0.25 and figures["fine-tuned"]["solved"]["value"] == 0.75
    assert figures["paired"]["solved"]["value"] == 0.5
    assert figures["paired"]["runnable"] == {"value": 0.25, "low": 0.25, "high": 0.25}  # the same gain on every task


def test_pooled_counts_every_split_and_its_interval_carries_their_disagreement():
    agree = {f"split-{k}": {"base": scores(f"s{k}-", [False] * 20), "fine-tuned": scores(f"s{k}-", [True] * 4 + [False] * 16)}
             for k in range(3)}
    pooled = pooled_figures(agree)
    assert pooled["tasks"] == {"base": 60, "fine-tuned": 60} and pooled["solved_count"] == {"base": 0, "fine-tuned": 12}
    assert pooled["paired"]["solved"]["value"] == pytest.approx(0.2)
    assert excludes_zero(pooled["paired"]["solved"]) == "above zero"
    assert "**met**" in goal(pooled, 3) and "12 vs base 0 of 60" in goal(pooled, 3)
    # The same pooled gain (+12 of 60), all of it on one split: the splits disagree, the interval is wider.
    lopsided = {"split-0": {"base": scores("a", [False] * 20), "fine-tuned": scores("a", [True] * 12 + [False] * 8)},
                **{f"split-{k}": {"base": scores(f"s{k}-", [False] * 20), "fine-tuned": scores(f"s{k}-", [False] * 20)}
                   for k in (1, 2)}}
    wide = pooled_figures(lopsided)["paired"]["solved"]
    narrow = pooled["paired"]["solved"]
    assert wide["value"] == pytest.approx(narrow["value"])
    assert wide["high"] - wide["low"] > 1.5 * (narrow["high"] - narrow["low"])


def test_a_gain_on_one_split_and_a_loss_on_another_is_not_met():
    splits = {"split-0": {"base": scores("a", [False] * 10), "fine-tuned": scores("a", [True] * 3 + [False] * 7)},
              "split-1": {"base": scores("b", [True] * 3 + [False] * 7), "fine-tuned": scores("b", [False] * 10)}}
    pooled = pooled_figures(splits)
    assert pooled["paired"]["solved"]["value"] == 0.0
    assert "**not met**" in goal(pooled, 2) and "includes zero" in goal(pooled, 2)


def test_pooled_figure_edges():
    assert pooled_figure([]) == {"value": 0.0, "low": 0.0, "high": 0.0}
    assert pooled_figure([[0.5, 0.5], []]) == {"value": 0.5, "low": 0.5, "high": 0.5}
    one = pooled_figure([[1.0] * 10 + [0.0] * 30])
    assert one["value"] == 0.25 and 0.1 < one["low"] < 0.25 < one["high"] < 0.4  # the ordinary bootstrap over units
    assert pooled_figure([[1.0, 0.0] * 10], seed=3) == pooled_figure([[1.0, 0.0] * 10], seed=3)  # seeded
    assert paired_values({"a": 1.0, "b": 0.0, "c": 1.0}, {"a": 0.0, "b": 1.0}) == [1.0, -1.0]

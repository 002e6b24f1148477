"""Metrics on hand-made sample sets whose answers are known: unanimity, ties, all distinct, no answers."""

import pytest

from arcray.consistency import Problem, aggregate, failure_reasons, get_metric, majority_vote, register_metric, score_responses
from arcray.consistency.judge import Answer, Judge
from arcray.errors import ConfigError

MATH = Problem(id="m1", category="math", prompt="?", reference="12")


def scored(responses, problem=MATH):
    with Judge() as judge:
        return score_responses(problem, responses, judge)


def values(responses, problem=MATH):
    from arcray.consistency.metrics import per_prompt

    return per_prompt(scored(responses, problem))


def test_unanimous_and_right():
    v = values(["so it is 12\n#### 12"] * 10)
    assert v == {"consistency": 1.0, "distinct_responses": 1.0, "distinct_answers": 1.0, "tie_rate": 0.0,
                 "accuracy": 1.0, "maj_accuracy": 1.0, "pass_at_n": 1.0}


def test_same_answer_in_different_words_is_consistent_but_distinct_responses_count_words():
    v = values(["#### 12", "The answer is 12.", "12 apples", "$12", "we get 12.0"])
    assert v["consistency"] == 1.0 and v["distinct_answers"] == 1.0
    assert v["distinct_responses"] == 5.0  # the plan's count: raw responses


def test_all_distinct_is_a_ten_way_tie():
    v = values([f"#### {i}" for i in range(10)])
    assert v["consistency"] == pytest.approx(0.1)
    assert v["distinct_responses"] == 10.0 and v["tie_rate"] == 1.0
    assert v["accuracy"] == 0.0 and v["maj_accuracy"] == 0.0


def test_two_way_tie_and_first_given_wins():
    s = scored(["#### 7"] * 4 + ["#### 12"] * 4 + ["#### 3"] * 2)
    assert s.vote.tie and s.vote.majority == "7" and s.vote.top_count == 4
    v = values(["#### 7"] * 4 + ["#### 12"] * 4 + ["#### 3"] * 2)
    assert v["consistency"] == 0.4 and v["accuracy"] == 0.4 and v["maj_accuracy"] == 0.0
    assert v["pass_at_n"] == 1.0  # one right sample is enough for pass@n
    assert values(["#### 7"] * 3)["pass_at_n"] == 0.0


def test_clear_majority_is_no_tie():
    v = values(["#### 12"] * 5 + ["#### 3"] * 3 + ["#### 4"] * 2)
    assert v["tie_rate"] == 0.0 and v["consistency"] == 0.5 and v["maj_accuracy"] == 1.0


def test_no_answer_never_agrees():
    s = scored(["no idea", "hmm", None, "#### 12"])
    assert s.vote.majority == "12" and s.vote.top_count == 1 and not s.vote.tie
    empty = majority_vote([Answer(None), Answer(None)])
    assert empty.majority is None and empty.consistency == 0.0 and not empty.tie


def test_without_reference_accuracy_is_not_measured():
    creative = Problem(id="c1", category="creativity", prompt="a poem")
    v = values(["Roses.", "roses", "Violets"], creative)
    assert v["accuracy"] is None and v["maj_accuracy"] is None and v["pass_at_n"] is None
    assert v["consistency"] == pytest.approx(2 / 3) and v["distinct_responses"] == 3.0


def test_aggregate_over_prompts_skips_unmeasured_values():
    rows = [values(["#### 12"] * 4), values([f"#### {i}" for i in range(4)]),
            values(["x"] * 4, Problem(id="c", category="creativity", prompt="p"))]
    summary = aggregate(rows)
    assert summary["tie_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["accuracy"] == 0.5  # two judged prompts: 1.0 and 0.0
    assert summary["consistency"] == pytest.approx((1 + 0.25 + 1) / 3, abs=1e-4)


def test_failures_are_wrong_or_inconsistent():
    assert failure_reasons({"maj_accuracy": 0.0, "consistency": 0.9}, 0.3) == ["wrong"]
    assert failure_reasons({"maj_accuracy": 1.0, "consistency": 0.2}, 0.3) == ["inconsistent"]
    assert failure_reasons({"maj_accuracy": None, "consistency": 0.3}, 0.3) == []


def test_metric_registry_refuses_duplicates_and_suggests_names():
    with pytest.raises(ConfigError, match="already registered"):
        register_metric("consistency")(lambda s: 0.0)
    with pytest.raises(ConfigError, match="did you mean 'tie_rate'"):
        get_metric("tie_rat")
    assert get_metric("tie_rate").higher_is_better is False

"""Before against after over replicates, on hand-made per-prompt metrics: no Ray, no model."""

from arcray.consistency.gates import DEFAULT_GATES, evaluate_gates, format_gates
from arcray.consistency.replicates import compare, flat_metrics, markdown, vote_share


def prompt(consistency, accuracy, maj, tie=0.0, passed=None):
    return {"consistency": consistency, "tie_rate": tie, "accuracy": accuracy, "maj_accuracy": maj,
            "pass_at_n": float(accuracy > 0) if passed is None else passed}


def replicate(tag, rows):
    return {f"{tag}-{i}": row for i, row in enumerate(rows)}


BEFORE = [replicate("a", [prompt(0.25, 0.25, 0.0, 1.0), prompt(0.5, 0.5, 1.0), prompt(0.375, 0.0, 0.0)] * 4),
          replicate("b", [prompt(0.25, 0.125, 0.0, 1.0), prompt(0.5, 0.375, 1.0), prompt(0.25, 0.25, 1.0, 1.0)] * 4)]
AFTER = [replicate("a", [prompt(0.75, 0.5, 1.0), prompt(1.0, 1.0, 1.0), prompt(0.625, 0.0, 0.0)] * 4),
         replicate("b", [prompt(0.625, 0.25, 0.0), prompt(0.875, 0.375, 1.0), prompt(0.75, 0.25, 1.0)] * 4)]


def test_per_replicate_pooled_and_paired_figures():
    result = compare(BEFORE, AFTER)
    assert list(result["figures"]) == ["rep-0", "rep-1", "pooled"] and result["prompts"] == [12, 12]
    pooled = result["figures"]["pooled"]
    assert set(pooled) == {"consistency", "tie_rate", "accuracy", "maj_accuracy", "pass_at_n"}
    c = pooled["consistency"]
    assert c["before"]["value"] == 0.3542 and c["after"]["value"] == 0.7708
    assert c["diff"]["value"] == round(0.7708333 - 0.3541667, 4) and c["diff"]["low"] > 0  # paired, per prompt
    assert c["before"]["low"] <= c["before"]["value"] <= c["before"]["high"]
    rep0 = result["figures"]["rep-0"]["accuracy"]["diff"]
    assert rep0["value"] == round((0.25 + 0.5 + 0.0) / 3, 4)
    assert pooled["tie_rate"]["diff"]["value"] == round(-3 / 6, 4)
    assert result["goal"]["met"] and result["goal"]["consistency_up"] and result["goal"]["accuracy_not_down"]
    flat = flat_metrics(result, "arith-1step")
    assert flat["arith-1step.pooled.consistency.diff"] == c["diff"]["value"] and flat["arith-1step.goal_met"] == 1.0


def test_accuracy_down_misses_the_goal_and_the_report_says_so():
    worse = [{pid: {**m, "accuracy": 0.0} for pid, m in rep.items()} for rep in AFTER]
    result = compare(BEFORE, worse)
    assert not result["goal"]["met"] and result["goal"]["consistency_up"] and not result["goal"]["accuracy_not_down"]
    text = markdown(result, "arith-1step")
    assert "on arith-1step: NOT MET" in text and "| consistency | pooled |" in text and "| pass@n | rep-1 |" in text


def test_vote_share_bins_and_correlation():
    shares = vote_share(AFTER)
    assert [b["prompts"] for b in shares["bins"]] == [0, 8, 16]  # < 0.5, 0.5 to < 0.75, >= 0.75
    assert shares["bins"][1]["value"] == 0.0 and shares["bins"][2]["value"] == 1.0 and shares["correlation"] > 0


def test_gate_lines_name_the_data_that_stood_in():
    board = {"all": {"consistency": 0.5}, "math": {"accuracy": 0.3, "tie_rate": 0.1}}
    text = format_gates(evaluate_gates(board, DEFAULT_GATES), measured={"math": "arith-1step"})
    assert "accuracy on arith-1step (stands in for MATH) >= 0.45" in text and "MATH accuracy" not in text

"""`arcray compare` on real runs: two ARC evaluations on the same tasks that differ in one config
field, the same two inside experiment folders, two consistency runs on the same prompts, and the
one-line refusals of the command itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arc_teacher import KNOWN_SOLVERS, WRONG_SOLVER, ArcTeacher
from fake_gemini import FakeGemini, RecordedRequest
from arcray.cli import main
from arcray.compare import compare_runs
from arcray.runtime.manifest import Manifest, load_manifest, now, provenance, write_manifest

TASKS = sorted(KNOWN_SOLVERS)  # three tasks the scripted teacher knows
STUDENT = {"backend": "gemini", "model": "gemini-2.5-flash", "timeout_s": 5,
           "retry": {"initial_delay_s": 0.01, "max_delay_s": 0.05, "max_attempts": 2}}
ROOT = Path(__file__).resolve().parents[1]


class CoolHeaded(ArcTeacher):
    """Knows every task's solver at a low temperature; at a high one, only the first task's."""

    def __call__(self, request: RecordedRequest):
        task_id = self.task_of(request)
        hot = request.generation_config.get("temperature", 0.0) > 0.5
        code = KNOWN_SOLVERS[task_id] if task_id == TASKS[0] or not hot else WRONG_SOLVER
        return f"```python\n{code}```\n"


def ensure_manifest(out: Path, stage: str, summary: dict) -> None:
    """The stage's own manifest when it writes one; until every stage does, one made the way a
    stage makes it (from the run's resolved config.json), so that the comparison reads a manifest."""
    if load_manifest(out) is not None:
        return
    config = json.loads((out / "config.json").read_text())
    metrics = summary.get("figures") or summary.get("metrics") or {}
    write_manifest(out, Manifest(stage=stage, status="complete", config=config, provenance=provenance(),
                                 started_at=now(), finished_at=now(), wall_s=summary.get("wall_s"), metrics=metrics))


@pytest.fixture(scope="module")
def evaluations(local_ray, tmp_path_factory):
    """Two real `arcray evaluate` runs on the same three tasks: temperature 0.2 (A) and 0.9 (B)."""
    from arcray.pipelines.evaluate import EvaluateConfig, run_evaluate

    root = tmp_path_factory.mktemp("compare")
    runs = []
    with FakeGemini() as server, pytest.MonkeyPatch.context() as patch:
        patch.delenv("GOOGLE_API_KEY", raising=False)
        for name, value in server.env().items():
            patch.setenv(name, value)
        server.handler = CoolHeaded(TASKS)
        for name, temperature in (("cool", 0.2), ("hot", 0.9)):
            out = root / name
            config = EvaluateConfig.build(student=STUDENT, tasks="arc1/train", ids=TASKS, out=str(out),
                                          cache={"enabled": False},
                                          evolution={"max_generations": 1, "population": 1, "use_analyst": False,
                                                     "select_by": "train", "temperature": temperature})
            summary = run_evaluate(config, progress=False)
            ensure_manifest(out, "evaluate", summary)
            runs.append(out)
    return runs


def test_two_evaluations_differ_in_one_field_and_are_paired_by_task(evaluations):
    cool, hot = evaluations
    comparison = compare_runs([str(cool), str(hot)])

    # Where each run lives is no difference; the one field that was changed is.
    assert comparison["config"]["differ"] == {"evolution.temperature": [0.2, 0.9]}
    assert comparison["config"]["identical"] > 20 and comparison["config"]["operational"] == []
    assert [r["stage"] for r in comparison["runs"]] == ["evaluate", "evaluate"]
    assert comparison["runs"][1]["location"] == str(hot) and comparison["runs"][0]["status"] == "complete"

    solved = comparison["metrics"]["solved"]
    assert solved[0] == {"value": 1.0, "low": 1.0, "high": 1.0}
    assert solved[1]["value"] == pytest.approx(1 / 3, abs=1e-4) and solved[1]["low"] < solved[1]["value"] < solved[1]["high"]
    [difference] = comparison["paired"]["solved"]
    assert difference["run"] == "B" and difference["against"] == "A"
    assert difference["shared"] == 3 and difference["unit"] == "tasks"
    assert difference["value"] == pytest.approx(-2 / 3, abs=1e-4) and difference["low"] < difference["high"] <= 0

    git = comparison["provenance"]["fields"]["git"]
    assert git[0] == git[1] and comparison["provenance"]["manifest"] == [True, True]
    assert compare_runs([str(cool), str(hot)]) == comparison  # seeded: the same runs give the same intervals


def test_the_command_prints_the_comparison_and_plots_it(evaluations, tmp_path, capsys):
    cool, hot = evaluations
    plot = tmp_path / "plots" / "compare.png"
    assert main(["compare", str(cool), str(hot), "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "Config: 1 field differs, " in text and "evolution.temperature" in text
    assert "0.2" in text and "0.9" in text
    assert "1.000 [1.000, 1.000]" in text and "B − A" in text and "3 tasks" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert main(["compare", str(cool), str(hot), "--json", "--no-plot"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["paired"]["solved"][0]["shared"] == 3 and printed["plot"] is None
    assert printed["metrics"] == compare_runs([str(cool), str(hot)])["metrics"]


def test_runs_made_before_manifests_are_still_compared(evaluations, tmp_path):
    cool, hot = evaluations
    old = []
    for run in evaluations:
        shutil.copytree(run, tmp_path / run.name)
        (tmp_path / run.name / "manifest.json").unlink()
        old.append(str(tmp_path / run.name))
    comparison = compare_runs(old)
    assert [r["status"] for r in comparison["runs"]] == ["no manifest"] * 2
    assert [r["stage"] for r in comparison["runs"]] == ["evaluate"] * 2
    assert comparison["config"]["differ"] == {"evolution.temperature": [0.2, 0.9]}
    assert comparison["provenance"]["manifest"] == [False, False]
    assert comparison["paired"]["solved"][0]["value"] == pytest.approx(-2 / 3, abs=1e-4)

    mixed = compare_runs([str(cool), old[1]])  # one with a manifest: both compared by their config files
    assert mixed["config"]["differ"] == {"evolution.temperature": [0.2, 0.9]}
    assert mixed["provenance"]["manifest"] == [True, False]


def test_a_field_outside_the_runs_identity_is_marked_operational(evaluations, tmp_path):
    cool, hot = evaluations
    wider = tmp_path / "wider"
    shutil.copytree(hot, wider)
    manifest = load_manifest(wider)  # as a re-run of B with more tasks in flight would record it
    write_manifest(wider, manifest.model_copy(update={"config": {**manifest.config, "tasks_per_actor": 2}}))
    config = compare_runs([str(cool), str(wider)])["config"]
    assert set(config["differ"]) == {"evolution.temperature", "tasks_per_actor"}
    assert config["operational"] == ["tasks_per_actor"]


def experiment(folder: Path, lora_r: int, stages: dict[str, Path]) -> Path:
    """An experiment's run folder: its resolved config, its manifest, its stage runs inside."""
    config = {"out": str(folder), "train": {"model": "smollm2-135m", "lora_r": lora_r}, "evaluate": {"population": 1}}
    for name, run in stages.items():
        shutil.copytree(run, folder / name)
    write_manifest(folder, Manifest(stage="experiment", status="complete", config=config, provenance=provenance(),
                                    started_at=now()))
    return folder


def test_two_experiments_are_compared_stage_folder_by_stage_folder(evaluations, tmp_path):
    cool, hot = evaluations
    a = experiment(tmp_path / "rank8", 8, {"eval-base": cool, "eval-fine-tuned": cool})
    b = experiment(tmp_path / "rank16", 16, {"eval-base": cool, "eval-fine-tuned": hot})
    shutil.copytree(cool, a / "extra" / "eval-probe")  # nested, and only in A

    comparison = compare_runs([str(a), str(b)])
    assert comparison["stage"] == "experiment"
    assert comparison["config"]["differ"] == {"train.lora_r": [8, 16]}
    by_name = {stage["name"]: stage for stage in comparison["stages"]}
    assert list(by_name) == ["eval-base", "eval-fine-tuned"]
    assert comparison["unmatched"] == {"extra/eval-probe": ["A"]}
    assert by_name["eval-base"]["paired"]["solved"][0]["value"] == 0.0
    assert by_name["eval-fine-tuned"]["paired"]["solved"][0]["value"] == pytest.approx(-2 / 3, abs=1e-4)
    assert by_name["eval-fine-tuned"]["config"]["differ"] == {"evolution.temperature": [0.2, 0.9]}


def test_two_consistency_runs_are_paired_by_prompt(local_ray, tmp_path):
    from arcray.pipelines.sampling import ConsistencyConfig, run_consistency
    from tests.llm.tiny_models import build_tiny_llama

    student = {"backend": "hf", "model": str(build_tiny_llama(tmp_path / "tiny")), "device": "cpu"}
    runs = []
    for name, temperature in (("warm", 0.7), ("hot", 1.5)):
        config = ConsistencyConfig.build(student=student, dataset={"source": "arith", "limit": 3}, n=3,
                                         temperature=temperature, max_new_tokens=6, batch_size=3, out=tmp_path / name)
        ensure_manifest(config.out, "measure", run_consistency(config, progress=False))
        runs.append(str(config.out))

    comparison = compare_runs(runs)
    assert comparison["config"]["differ"] == {"temperature": [0.7, 1.5]}
    [difference] = comparison["paired"]["consistency"]
    assert difference["shared"] == 3 and difference["unit"] == "prompts"
    samples = [{json.loads(line)["id"]: json.loads(line)["metrics"]["consistency"]
                for line in (Path(run) / "samples.jsonl").read_text().splitlines()} for run in runs]
    expected = sum(samples[1][i] - samples[0][i] for i in samples[0]) / 3
    assert difference["value"] == pytest.approx(expected, abs=1e-4)
    assert set(comparison["metrics"]) >= {"consistency", "tie_rate", "accuracy"}
    consistency = comparison["metrics"]["consistency"][0]  # the run's own figure, with its interval over prompts
    assert consistency["value"] == pytest.approx(sum(samples[0].values()) / 3, abs=1e-3)
    assert consistency["low"] <= consistency["value"] <= consistency["high"]


def refusal(*args: str, cwd: Path) -> str:
    """`python -m arcray compare ARGS` in a subprocess: exit code 2 and one line on stderr, returned."""
    done = subprocess.run([sys.executable, "-m", "arcray", "compare", *args, "--no-plot"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("arcray compare: error: ")
    return done.stderr


def test_bad_input_is_one_line(evaluations, tmp_path):
    cool, _ = evaluations
    assert "does not exist" in refusal(str(cool), str(tmp_path / "missing"), cwd=tmp_path)
    (tmp_path / "empty").mkdir()
    assert "is not an arcray run" in refusal(str(cool), str(tmp_path / "empty"), cwd=tmp_path)
    assert "two runs or more, got 1" in refusal(str(cool), cwd=tmp_path)
    exp = experiment(tmp_path / "exp", 8, {"eval-base": cool})
    line = refusal(str(cool), str(exp), cwd=tmp_path)
    assert "different stages" in line and "(A: evaluate, B: experiment)" in line

"""`arcray kaggle bundle` and its notebook, executed headless (papermill) in a network namespace with no network:
the submission it writes is the one `arcray evaluate` wrote for the same student on the same tasks."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys

import pytest

from arcray.arc.submission import load_submission, score_submission
from arcray.arc.tasks import load_tasks
from arcray.cli import main
from arcray.errors import ArcrayError
from arcray.kaggle.bundle import build_bundle
from arcray.pipelines.evaluate import EvaluateConfig, run_evaluate

IDS = ["00576224", "0c786b71", "2072aba6", "48131b3c"]  # small arc1/eval tasks


def write_challenges(folder):
    """An ARC Prize evaluation file pair (challenges without the test outputs; solutions beside them), as
    `arcray kaggle challenges` writes it."""
    assert main(["kaggle", "challenges", "arc1/eval", "--out", str(folder), "--max-cells", "200", "--limit", "4"]) == 0
    path = folder / "arc-agi_evaluation_challenges.json"
    assert sorted(json.loads(path.read_text())) == IDS
    assert all("output" not in t for task in json.loads(path.read_text()).values() for t in task["test"])
    assert sorted(json.loads((folder / "arc-agi_evaluation_solutions.json").read_text())) == IDS
    return path


def offline(command: list[str]) -> list[str]:
    """``command`` in a new network namespace holding only a loopback (bubblewrap), the filesystem as it is."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.fail("bubblewrap is not installed: run scripts/install-bubblewrap.sh")
    return [bwrap, "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", "--", *command]


@pytest.fixture(scope="module")
def evaluated(local_ray, tiny_base, tmp_path_factory):
    root = tmp_path_factory.mktemp("kaggle")
    challenges = write_challenges(root / "data")
    config = EvaluateConfig.build(
        student={"backend": "hf", "model": str(tiny_base), "dtype": "float32"}, tasks=f"kaggle:{challenges}",
        out=str(root / "evaluate"), cache={"enabled": False}, tasks_per_actor=4, tracking={"backend": "none"},
        evolution={"max_generations": 1, "population": 4, "use_analyst": False, "select_by": "train",
                   "grammar": "arcdsl", "max_new_tokens": 128, "temperature": 1.0})
    summary = run_evaluate(config, progress=False)
    return root, challenges, summary


def test_the_offline_notebook_writes_what_arcray_evaluate_wrote(evaluated, tmp_path):
    root, challenges, summary = evaluated
    bundle = tmp_path / "bundle"
    made = build_bundle(root / "evaluate", bundle, budget_s=600)
    assert made["wheels"][0].startswith("arcray-") and (bundle / "model" / "config.json").is_file()
    record = json.loads((bundle / "bundle.json").read_text())
    assert record["evaluate"]["student"]["model"] == "model" and str(root) not in json.dumps(record["evaluate"])

    with socket.create_server(("127.0.0.1", 0)) as listening:  # something the notebook would reach if it had a network
        port = listening.getsockname()[1]
        probe = subprocess.run(offline([sys.executable, "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}), 3)"]),
                               capture_output=True, text=True)
    assert probe.returncode != 0 and "ConnectionRefused" in probe.stderr  # the namespace's loopback is its own

    work = tmp_path / "working"
    work.mkdir()
    executed = tmp_path / "executed.ipynb"
    run = subprocess.run(offline([sys.executable, "-m", "papermill", str(bundle / "arcray-kaggle.ipynb"), str(executed),
                                  "-p", "BUNDLE", str(bundle), "-p", "CHALLENGES", str(challenges), "-p", "OUT", str(work),
                                  "--no-progress-bar"]),
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]

    text = executed.read_text()
    assert ".arcray-packages/arcray" in text  # the notebook ran the bundled wheel, not this checkout
    submitted = load_submission(work / "submission.json")
    assert submitted == load_submission(root / "evaluate" / "submission.json")  # attempt for attempt
    assert set(submitted) == set(IDS)
    score = score_submission(submitted, load_tasks(f"kaggle:{challenges}"))
    assert score.score == summary["submission_score"]
    assert sum(attempt != {"attempt_1": [[0]], "attempt_2": [[0]]} for v in submitted.values() for attempt in v) > 0


def test_predict_refuses_a_folder_that_is_not_a_bundle(tmp_path, capsys):
    assert main(["kaggle", "predict", "--bundle", str(tmp_path), "--challenges", str(tmp_path / "c.json"),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bundle.json" in err[0] and "arcray kaggle bundle" in err[0]


def test_bundle_refuses_a_run_that_is_not_a_finished_evaluation(tmp_path):
    with pytest.raises(ArcrayError, match="not a finished `arcray evaluate` run"):
        build_bundle(tmp_path, tmp_path / "b")


def test_a_spent_budget_starts_no_task_says_so_and_still_submits_every_task(evaluated, tmp_path, capfd):
    root, challenges, _ = evaluated
    bundle = tmp_path / "bundle"
    build_bundle(root / "evaluate", bundle)
    from arcray.kaggle.predict import predict

    result = predict(bundle=bundle, challenges=challenges, out=tmp_path / "working", budget_s=1e-9)
    assert result["attempted"] == 0 and result["tasks"] == len(IDS)
    err = capfd.readouterr().err
    assert f"budget ran out before {len(IDS)} of {len(IDS)} task(s) started" in err and "Re-run the same command" in err
    submitted = load_submission(tmp_path / "working" / "submission.json")
    assert set(submitted) == set(IDS)  # every task answered, with the fallback grid where nothing ran
    assert all(a == {"attempt_1": [[0]], "attempt_2": [[0]]} for v in submitted.values() for a in v)


def test_a_budget_on_ray_is_refused_up_front(tmp_path):
    from arcray.errors import ConfigError

    with pytest.raises(ConfigError, match="budget_s bounds a run in this process"):
        EvaluateConfig.build(student={"backend": "hf"}, tasks="arc1/eval", out=str(tmp_path), budget_s=60)


def test_without_a_sandbox_predict_stops_in_one_line_unless_unconfined_is_opted_into(evaluated, tmp_path, monkeypatch,
                                                                                        capfd):
    """Kaggle's image has no bubblewrap (and its containers refuse user namespaces): the notebook stops and names
    ALLOW_UNCONFINED; opted in, the programs run unconfined and a loud line says so."""
    root, challenges, _ = evaluated
    bundle = tmp_path / "bundle"
    build_bundle(root / "evaluate", bundle)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bwrap-here"))
    monkeypatch.delenv("ARCRAY_ALLOW_UNCONFINED", raising=False)
    from arcray.arc.sandbox import SandboxUnavailable
    from arcray.kaggle.predict import predict

    with pytest.raises(SandboxUnavailable, match="bubblewrap.*set ALLOW_UNCONFINED = True"):
        predict(bundle=bundle, challenges=challenges, out=tmp_path / "refused")
    assert not (tmp_path / "refused" / "submission.json").exists()

    result = predict(bundle=bundle, challenges=challenges, out=tmp_path / "working", allow_unconfined=True, limit=1)
    assert result["attempted"] == 1 and (tmp_path / "working" / "submission.json").is_file()
    err = capfd.readouterr().err
    assert "ALLOW_UNCONFINED is on" in err and "WITHOUT the operating-system boundary" in err


def test_predict_needs_no_ray(evaluated, tmp_path):
    """Kaggle's image may lack Ray (its wheel alone is 79 MB): the prediction runs with `import ray` made to fail."""
    root, challenges, _ = evaluated
    bundle = tmp_path / "bundle"
    build_bundle(root / "evaluate", bundle)
    script = ("import sys; sys.modules['ray'] = None\n"  # any `import ray` now raises ImportError
              "from arcray.kaggle.predict import predict\n"
              f"print(predict(bundle={str(bundle)!r}, challenges={str(challenges)!r}, out={str(tmp_path / 'w')!r}, limit=2))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "'attempted': 2" in run.stdout and (tmp_path / "w" / "submission.json").is_file()

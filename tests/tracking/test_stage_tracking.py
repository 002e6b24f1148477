"""A real stage with the embedded default: `arcray prepare` logs its run to MLflow when it finishes."""

from __future__ import annotations

import json

from arcray.runtime.manifest import load_manifest
from arcray.tracking import TrackingConfig, resolve_uri
from arcray.training.prepare import PrepareConfig, run_prepare


def test_a_prepare_run_lands_in_the_run_directorys_store_with_params_metrics_artifacts_and_provenance(tmp_path):
    from mlflow.tracking import MlflowClient

    source = tmp_path / "sc.jsonl"
    rows = [{"prompt": f"What is {i} + {i}?", "response": f"{2 * i}", "category": "math"} for i in range(12)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = PrepareConfig(sources=[source], out=tmp_path / "data", val_fraction=0.25, seed=3)
    assert config.tracking.backend == "mlflow"  # the embedded default
    stats = run_prepare(config)
    manifest = load_manifest(tmp_path / "data")
    client = MlflowClient(resolve_uri(TrackingConfig(), tmp_path / "data"))
    [experiment] = [e for e in client.search_experiments() if e.name == "arcray"]
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "prepare:data"
    assert run.data.params["seed"] == "3" and run.data.params["val_fraction"] == "0.25"
    assert run.data.metrics["train"] == stats["train"] == manifest.metrics["train"]
    assert run.data.tags["arcray.stage"] == "prepare"
    assert run.data.tags.get("arcray.git_sha", "") == (manifest.provenance.git_sha or "")
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"manifest.json", "stats.json"} <= names

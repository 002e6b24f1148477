"""MLflow tracking against real stores: the embedded SQLite file in the run directory, and an
`mlflow server` on 127.0.0.1; a server that is down, a secret in the config, TRL's report_to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from arcray.runtime.manifest import Manifest, now, provenance
from arcray.tracking import (RECORD, TrackingConfig, log_stage, resolve_uri, trainer_report_to, tune_callbacks,
                             worker_report_to)

SECRET_IN_ENV = "gk-test-0123456789abcdefSECRET"
SECRET_IN_CONFIG = "cfg-test-9876543210fedcbaSECRET"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def _server_boot(tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1, started when the module starts: it takes seconds to
    boot, which the tests before the ones that need it overlap. Yields a wait for its URI."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = open(root / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{root / 'store.db'}", "--artifacts-destination", str(root / "artifacts")],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"

    def wait() -> str:
        for _ in range(600):  # up to 5 minutes on a loaded machine; the test waits, it does not time it
            if server.poll() is not None:
                pytest.fail(f"mlflow server exited: {(root / 'server.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{uri}/health", timeout=2).close()
                return uri
            except OSError:
                time.sleep(0.5)
        pytest.fail("mlflow server did not answer within 5 minutes")

    yield wait
    os.killpg(server.pid, 9)  # the server and the uvicorn process it started, nothing else; its store is scratch
    server.wait(timeout=60)
    log.close()


@pytest.fixture
def mlflow_server(_server_boot) -> str:
    return _server_boot()


@pytest.fixture(autouse=True)
def _no_ambient_tracking(monkeypatch):
    """The embedded default, whatever this machine's environment says."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "WANDB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def a_run(root: Path, *, config: dict | None = None, status: str = "complete") -> tuple[Path, Manifest, list[Path]]:
    """A finished evaluate run: a report, a plot and an adapter-like folder on disk, and its manifest."""
    from PIL import Image

    run = root / "eval-run"
    (run / "adapter").mkdir(parents=True)
    (run / "report.md").write_text("# Report\n\nsolved 3 of 4 tasks\n")
    Image.new("RGB", (8, 6), (200, 30, 30)).save(run / "plot.png")
    (run / "adapter" / "adapter_config.json").write_text('{"r": 8}\n')
    (run / "adapter" / "adapter_model.safetensors").write_bytes(bytes(range(256)) * 4)
    manifest = Manifest(
        stage="evaluate", status=status, provenance=provenance(), started_at=now(), finished_at=now(), wall_s=1.5,
        config=config or {"model": "smollm2-135m", "attempts": 2, "sampling": {"temperature": 0.7, "top_p": 0.95},
                          "tasks": ["a1", "b2"], "teacher": None},
        seeds={"sampling": 7},
        metrics={"solved": {"value": 0.75, "low": 0.5, "high": 1.0}, "tasks": 4, "per_category": {"easy": 1.0},
                 "note": "text is no metric"},
    )
    (run / "manifest.json").write_text(manifest.model_dump_json(indent=2))
    return run, manifest, [run / "report.md", run / "plot.png", run / "adapter"]


def read_back(uri: str, run_id: str, into: Path) -> tuple:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    downloaded = Path(client.download_artifacts(run_id, "", str(into)))
    return client, run, downloaded


def assert_recorded(client, run, downloaded: Path, source: Path) -> None:
    data = run.data
    assert run.info.run_name == f"evaluate:{source.name}" and run.info.status == "FINISHED"
    assert data.params["model"] == "smollm2-135m" and data.params["attempts"] == "2"
    assert data.params["sampling.temperature"] == "0.7" and data.params["tasks"] == '["a1", "b2"]'
    assert data.metrics["solved"] == 0.75 and data.metrics["solved_low"] == 0.5 and data.metrics["solved_high"] == 1.0
    assert data.metrics["tasks"] == 4 and data.metrics["per_category.easy"] == 1.0 and "note" not in data.metrics
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")] == [(1, 2.5), (2, 1.25)]
    origin = provenance()
    assert data.tags["arcray.stage"] == "evaluate" and data.tags["arcray.run_dir"] == str(source.resolve())
    assert data.tags["arcray.git_sha"] == (origin.git_sha or "unknown")
    assert data.tags["arcray.git_dirty"] == str(origin.git_dirty).lower()
    assert data.tags["arcray.version"] == origin.arcray and data.tags["arcray.python"] == origin.python
    assert data.tags["pkg.mlflow"] == origin.packages["mlflow"] and data.tags["arcray.ray"] == (origin.ray or "none")
    assert sorted(p.name for p in downloaded.iterdir()) == ["adapter", "manifest.json", "plot.png", "report.md"]
    for name in ("report.md", "plot.png", "adapter/adapter_config.json", "adapter/adapter_model.safetensors"):
        assert (downloaded / name).read_bytes() == (source / name).read_bytes(), name
    assert Manifest.model_validate_json((downloaded / "manifest.json").read_text()).metrics["tasks"] == 4


STEPS = {"loss": [(1, 2.5), (2, 1.25)]}


def test_embedded_store_records_the_stage_once(tmp_path):
    run, manifest, artifacts = a_run(tmp_path)
    config = TrackingConfig()
    uri = resolve_uri(config, run)
    assert uri == f"sqlite:///{run.resolve()}/mlflow.db"

    run_id = log_stage(config, manifest, run, artifacts=artifacts, step_metrics=STEPS)
    client, recorded, downloaded = read_back(uri, run_id, tmp_path / "back")
    assert_recorded(client, recorded, downloaded, run)
    # the artifacts live beside the store, not in the folder the process happened to start in
    assert recorded.info.artifact_uri.startswith((run / "mlartifacts").resolve().as_uri())

    # a resumed run finishing again updates its run: by the id in tracking.json, and without it by the tags
    assert log_stage(config, manifest, run, artifacts=artifacts, step_metrics=STEPS) == run_id
    (run / RECORD).unlink()
    assert log_stage(config, manifest, run, artifacts=artifacts, step_metrics=STEPS) == run_id
    assert [r.info.run_id for r in client.search_runs([recorded.info.experiment_id])] == [run_id]
    assert len(client.get_metric_history(run_id, "loss")) == 2


def test_secrets_never_reach_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", SECRET_IN_ENV)
    config = {"model": "gemini-2.5-flash", "api_key": SECRET_IN_CONFIG, "teacher": {"api_key_env": "GEMINI_API_KEY"}}
    run, manifest, artifacts = a_run(tmp_path, config=config)
    (run / "teacher.log").write_text(f"request failed: 401 for key {SECRET_IN_ENV}\n")

    run_id = log_stage(TrackingConfig(), manifest, run, artifacts=[*artifacts, run / "teacher.log"])
    client, recorded, downloaded = read_back(resolve_uri(TrackingConfig(), run), run_id, tmp_path / "back")
    assert recorded.data.params["api_key"] == "<redacted>"
    assert "[GEMINI_API_KEY redacted]" in (downloaded / "teacher.log").read_text()
    # every byte the store holds: the database and the artifact folder (the run's own files aside)
    stored = [run / "mlflow.db", *[p for p in (run / "mlartifacts").rglob("*") if p.is_file()]]
    assert len(stored) > 5
    for path in stored:
        data = path.read_bytes()
        assert SECRET_IN_ENV.encode() not in data and SECRET_IN_CONFIG.encode() not in data, path


def test_unreachable_server_is_one_warning(tmp_path, monkeypatch, capsys):
    # were the reachability check gone, MLflow's own retries would give up within seconds, not minutes
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    run, manifest, artifacts = a_run(tmp_path)
    config = TrackingConfig(uri=f"http://127.0.0.1:{free_port()}")

    assert log_stage(config, manifest, run, artifacts=artifacts) is None
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("arcray: warning: ") and "no MLflow server answers" in lines[0]
    assert str(run) in lines[0] and "MLFLOW_TRACKING_URI" in lines[0]
    assert trainer_report_to(config, run) == ("none", {}) and tune_callbacks(config, run) == []
    assert len(capsys.readouterr().err.strip().splitlines()) == 2
    assert (run / "report.md").read_text().startswith("# Report") and not (run / RECORD).exists()


def test_a_missing_package_is_one_line_naming_the_install(tmp_path, monkeypatch, capsys):
    run, manifest, _ = a_run(tmp_path)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what Python sees where mlflow is not installed
    assert log_stage(TrackingConfig(), manifest, run) is None
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "pip install 'arcray[track]'" in line and str(run) in line
    assert trainer_report_to(TrackingConfig(), run) == ("none", {}) and tune_callbacks(TrackingConfig(), run) == []
    monkeypatch.setitem(sys.modules, "wandb", None)
    assert log_stage(TrackingConfig(backend="wandb"), manifest, run) is None
    assert trainer_report_to(TrackingConfig(backend="wandb"), run) == ("none", {})
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and "pip install wandb" in lines[-1] and "W&B" in lines[-1]
    none = TrackingConfig(backend="none")
    assert log_stage(none, manifest, run) is None and not capsys.readouterr().err
    assert trainer_report_to(none, run) == ("none", {}) and tune_callbacks(none, run) == []
    assert resolve_uri(none, run) is None and not (run / RECORD).exists() and not (run / "mlflow.db").exists()


def test_mlflow_server(tmp_path, mlflow_server):
    uri = mlflow_server
    run, manifest, artifacts = a_run(tmp_path)
    config = TrackingConfig(uri=uri, experiment="arcray-server-test")

    run_id = log_stage(config, manifest, run, artifacts=artifacts, step_metrics=STEPS)
    client, recorded, downloaded = read_back(uri, run_id, tmp_path / "back")
    assert_recorded(client, recorded, downloaded, run)
    assert log_stage(config, manifest, run, artifacts=artifacts, step_metrics=STEPS) == run_id
    assert len(client.search_runs([recorded.info.experiment_id])) == 1

    # Tune's callback records to the same server, each trial nested under the tune stage's run
    (callback,) = tune_callbacks(config, tmp_path / "tune-run")
    callback.setup()
    parent = client.get_run(callback.tags["mlflow.parentRunId"])
    assert parent.data.tags["arcray.stage"] == "tune" and parent.info.run_name == "tune:tune-run"
    assert callback.tags["arcray.stage"] == "tune-trial" and callback.experiment_name == "arcray-server-test"


def test_trainer_report_to_lands_per_step_loss_in_the_stage_run(tmp_path, monkeypatch):
    """transformers' own MLflowCallback, given the env, logs each step's loss into the run log_stage then completes."""
    import torch
    from torch.utils.data import Dataset
    from transformers import Trainer, TrainingArguments

    run = tmp_path / "train-run"
    report_to, env = trainer_report_to(TrackingConfig(), run)
    assert report_to == "mlflow" and env["MLFLOW_TRACKING_URI"] == resolve_uri(TrackingConfig(), run)
    for name in env:
        monkeypatch.delenv(name, raising=False)  # restored after the test
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=worker_report_to(report_to, env),
                             max_steps=3, logging_steps=1, per_device_train_batch_size=2, save_strategy="no",
                             use_cpu=True, disable_tqdm=True, seed=0)
    assert args.report_to == ["mlflow"] and os.environ["MLFLOW_RUN_ID"] == env["MLFLOW_RUN_ID"]

    class Pairs(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return {"x": torch.tensor([float(i)]), "y": torch.tensor([2.0 * i])}

    class Line(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, x, y):
            return {"loss": torch.nn.functional.mse_loss(self.linear(x), y)}

    torch.manual_seed(0)
    Trainer(model=Line(), args=args, train_dataset=Pairs()).train()

    manifest = Manifest(stage="train", status="complete", config={"lr": 5e-5}, provenance=provenance(),
                        started_at=now(), finished_at=now(), metrics={"eval_loss": 0.5})
    assert log_stage(TrackingConfig(), manifest, run) == env["MLFLOW_RUN_ID"]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    assert [m.step for m in client.get_metric_history(env["MLFLOW_RUN_ID"], "loss")] == [1, 2, 3]
    recorded = client.get_run(env["MLFLOW_RUN_ID"])
    assert recorded.data.params["lr"] == "5e-05" and recorded.data.params["max_steps"] == "3"  # ours and TRL's
    assert recorded.data.metrics["eval_loss"] == 0.5 and recorded.info.run_name == "train:train-run"
    assert len(client.search_runs([recorded.info.experiment_id])) == 1

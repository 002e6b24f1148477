"""A canary key through a real tune trial, which trains on Ray Train (a TorchTrainer launched from
the trial, as `arcray train` launches it from the driver: the same `_fit`): it reaches no file Ray
or arcray writes, neither the run directories nor Ray's session folder (logs, job, trial state)."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

CANARY = "AIzaSy-canary-0c4f1e2d-must-never-be-written"


def files_holding(root: Path, needle: bytes) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                hits.append(str(path))
        except OSError:
            pass
    return hits


def test_the_key_is_written_nowhere_by_a_tune_trial_and_its_training(tmp_path, tiny_base, chat_data):
    ray_tmp = Path(tempfile.mkdtemp(prefix="rk", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "RAY_ADDRESS": "", "RAY_TMPDIR": str(ray_tmp), "GEMINI_API_KEY": CANARY}
    config = tmp_path / "tune.yaml"
    config.write_text(yaml.safe_dump({
        "data": str(chat_data), "model": str(tiny_base), "num_samples": 1, "seed": 0, "out": str(tmp_path / "tune"),
        "train": {"batch_size": 4, "grad_accum": 1, "load_in_4bit": False, "max_length": 128, "merge": False, "epochs": 1},
        "space": {"lora_r": {"choice": [2, 4]}}, "asha": {"enabled": False},
    }))
    try:
        command = [sys.executable, "-m", "arcray", "tune", "--config", str(config)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert CANARY not in result.stdout + result.stderr
        assert (tmp_path / "tune" / "best_adapter").is_dir()
        assert list((tmp_path / "tune").rglob("checkpoint_*")), "the trial's Ray Train run left no checkpoint"
        sessions = list(ray_tmp.rglob("session_*"))
        assert sessions and list(ray_tmp.rglob("*.log")), "Ray's session folder was not where the test looks"
        assert files_holding(tmp_path, CANARY.encode()) == []
        assert files_holding(ray_tmp, CANARY.encode()) == []
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)

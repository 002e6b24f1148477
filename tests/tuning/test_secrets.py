"""A canary key through a real tune trial and a real training run: it reaches no file Ray or
arcray writes, neither the run directories nor Ray's session folder (logs, job and trial state)."""

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


def test_the_key_is_written_nowhere_by_tune_or_train(tmp_path, tiny_base, chat_data):
    ray_tmp = Path(tempfile.mkdtemp(prefix="rk", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "RAY_ADDRESS": "", "RAY_TMPDIR": str(ray_tmp), "GEMINI_API_KEY": CANARY}
    config = tmp_path / "tune.yaml"
    config.write_text(yaml.safe_dump({
        "data": str(chat_data), "model": str(tiny_base), "num_samples": 1, "seed": 0, "out": str(tmp_path / "tune"),
        "train": {"batch_size": 4, "grad_accum": 1, "load_in_4bit": False, "max_length": 128, "merge": False, "epochs": 1},
        "space": {"lora_r": {"choice": [2, 4]}}, "asha": {"enabled": False},
    }))
    try:
        commands = [
            [sys.executable, "-m", "arcray", "tune", "--config", str(config)],
            [sys.executable, "-m", "arcray", "train", "--data", str(chat_data), "--model", str(tiny_base), "--out",
             str(tmp_path / "train"), "--epochs", "1", "--max-length", "128", "--no-4bit"],
        ]
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
            assert result.returncode == 0, result.stderr[-3000:]
            assert CANARY not in result.stdout + result.stderr
        assert (tmp_path / "tune" / "best_adapter").is_dir() and (tmp_path / "train" / "adapter").is_dir()
        sessions = list(ray_tmp.rglob("session_*"))
        assert sessions and list(ray_tmp.rglob("*.log")), "Ray's session folder was not where the test looks"
        assert files_holding(tmp_path, CANARY.encode()) == []
        assert files_holding(ray_tmp, CANARY.encode()) == []
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)

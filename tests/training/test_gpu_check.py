"""The GPU check (benchmarks/gpu_check.py) stays runnable before a GPU is lent: its every step at toy sizes on CPU."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_gpu_check_runs_every_step_on_cpu(tmp_path):
    result = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--smoke-test", "--assets", str(tmp_path / "none"),
                             "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    report = json.loads((tmp_path / "gpu_check.json").read_text())
    toy = report["students"]["toy"]
    assert toy["qlora"]["steps"] == 2 and toy["qlora"]["s_per_step"] > 0 and toy["qlora"]["trainable_params"] > 0
    assert toy["sampling"]["sequences"] == 16 and toy["sampling"]["new_tokens_per_s"] > 0
    assert "| toy |" in (tmp_path / "gpu_check.md").read_text()

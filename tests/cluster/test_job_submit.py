"""The cluster workflow on this machine: `ray start --head` with token auth, `ray job submit`.

The head is started with `--block` in its own process group and stopped by signalling that
group, so no other Ray on the machine (the test session's own local Ray, say) is touched.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    # One head for the module's tests: starting and stopping one takes about 40 s on 2 cores.
    # Ray's socket paths must stay under ~107 characters: a short session folder, not tmp_path.
    temp_dir = tempfile.mkdtemp(prefix="arcray-head-", dir="/tmp")
    token = tmp_path_factory.mktemp("head") / "auth_token"
    token.write_text(uuid.uuid4().hex)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    env.pop("RAY_ADDRESS", None)
    dashboard = free_port()
    head = subprocess.Popen(
        ["ray", "start", "--head", "--block", "--port=0", f"--dashboard-port={dashboard}", "--dashboard-host=127.0.0.1",
         f"--ray-client-server-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}", "--num-cpus=2",
         f"--temp-dir={temp_dir}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    address = f"http://127.0.0.1:{dashboard}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{address}/api/version", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # it answers (401 without the token): up
        except OSError:
            time.sleep(1)
    else:
        os.killpg(head.pid, signal.SIGTERM)
        pytest.fail("the Ray head did not come up within 120 s")
    try:
        yield address, env
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=5)
        except subprocess.TimeoutExpired:  # its graceful stop takes ~30 s on 2 cores; the session folder goes anyway
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=30)
        shutil.rmtree(temp_dir, ignore_errors=True)


def submit(address, env, *command, timeout=600):
    return subprocess.run(
        ["ray", "job", "submit", "--address", address, "--working-dir", str(REPO), "--", *command],
        env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )


def test_submitted_experiment_writes_its_results(ray_head, tmp_path):
    address, env = ray_head
    out = tmp_path / "collect"
    result = submit(address, env, "python", "experiments/collect.py", "--config", "experiments/configs/collect_search.yaml",
                    "--smoke-test", "--out", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "succeeded" in result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["attempted"] == len((out / "attempts.jsonl").read_text().splitlines()) > 0
    assert (out / "config.json").exists() and (out / "distillation_dataset.json").exists()


def test_a_relative_out_in_a_submitted_job_is_refused_in_one_line(ray_head):
    """Relative to the job's working_dir copy, which Ray deletes with the session: refused before any work."""
    address, env = ray_head
    result = submit(address, env, "python", "experiments/collect.py", "--config", "experiments/configs/collect_search.yaml",
                    "--smoke-test", "--out", "runs/collect-search", timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "failed" in output
    assert "working_dir, which Ray deletes with the session: pass --out an absolute path" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("script,config", [
    ("arc_distillation.py", "main_arc.yaml"),  # the offline search teacher: collect, prepare, train, evaluate
    ("self_consistency.py", "self_consistency_cpu.yaml"),  # with the warm start: base, warm model, after
])
def test_submitted_experiments_write_their_reports(ray_head, tmp_path, script, config):
    address, env = ray_head
    env = {k: v for k, v in env.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    out = tmp_path / "run"
    result = submit(address, env, "python", f"experiments/{script}", "--config", f"experiments/configs/{config}",
                    "--smoke-test", "--out", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "succeeded" in result.stdout + result.stderr
    console = result.stdout + result.stderr
    assert "[train " in console and "ETA" in console and "Ray dashboard: http" in console  # arcray's own lines
    for noise in ("{'loss'", "Loading weights", "Progress bars disabled", "execution finished in", "gemm_4bit_forward",
                  "is_gradient_checkpointing", "Started training worker group"):  # libraries' lines, silenced at source
        assert noise not in console, noise
    report = (out / "report.md").read_text()
    assert "| base " in report  # both reports compare the base with the trained student
    for image in [line.split("(")[-1].rstrip(")") for line in report.splitlines() if line.startswith("![")]:
        assert (out / image).is_file(), image
    adapters = sorted(out.glob("split-*/train/adapter/adapter_config.json"))
    if script == "arc_distillation.py":  # one student per held-out split (replicate), the collection shared
        assert [a.parts[-4] for a in adapters] == ["split-100", "split-101"], adapters
        assert "pooled over 2 held-out splits" in report and "| split-101 | fine-tuned |" in report
        assert (out / "collect" / "manifest.json").is_file() and not (out / "split-101" / "collect").exists()
    else:
        assert (out / "train" / "adapter" / "adapter_config.json").is_file()


def test_token_auth_stays_on(ray_head):
    address, env = ray_head
    without = {k: v for k, v in env.items() if not k.startswith("RAY_AUTH")}
    without["HOME"] = str(Path(env.get("RAY_AUTH_TOKEN_PATH")).parent)  # no ~/.ray/auth_token there
    result = subprocess.run(["ray", "job", "list", "--address", address], env=without, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "token" in (result.stdout + result.stderr).lower()


OWN_INSTANCE = """
import ray
from arcray.runtime.ray_setup import ensure_ray

ensure_ray(num_cpus=1)

@ray.remote
def actors_seen_by_the_state_api():  # what Train's placement-group cleaner does from a worker
    from ray.util.state import list_actors
    return len(list_actors())

assert ray.get(actors_seen_by_the_state_api.remote()) >= 0
print("cpus", ray.cluster_resources()["CPU"])
"""


def test_a_run_starts_its_own_instance_beside_a_running_head(ray_head):
    address, env = ray_head  # a `ray start --head` with 2 CPUs is running on this machine
    env = {k: v for k, v in env.items() if not k.startswith("RAY_AUTH")}
    result = subprocess.run([sys.executable, "-c", OWN_INSTANCE], env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cpus 1.0" in result.stdout  # its own instance, not the head's
    assert "multiple active Ray instances" not in result.stderr

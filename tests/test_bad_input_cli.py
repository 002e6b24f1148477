"""Bad input, second pass (issue 27), as a user meets it: each case through the CLI or an experiment
script, in a subprocess, ends in one line naming the problem and the fix, exit code 2, no traceback,
no control character on the terminal.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TASK = {"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[3, 4]], "output": [[4, 3]]}]}
ROOT = Path(__file__).resolve().parents[1]


def _limited() -> None:  # the subprocess's own bounds: 3 GB of address space, 120 s of CPU
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


def one_line(args: list[str], *, script: bool = False, cwd: Path | None = None, wrap: list[str] = (),
             env: dict[str, str] | None = None, others_print: bool = False) -> str:
    """Run ``arcray ARGS`` (or ``python ARGS`` for a script), inside ``wrap`` (a bwrap view); assert the
    one-line refusal; return that line. ``others_print``: libraries (Ray, bitsandbytes) may print lines
    of their own before it; arcray's is the last."""
    import tempfile

    command = [*wrap, sys.executable, str(ROOT / args[0]), *args[1:]] if script else [*wrap, sys.executable, "-m", "arcray", *args]
    here = Path(cwd or tempfile.mkdtemp(prefix="arcray-cwd-"))  # an empty folder to run in: it must stay empty
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, preexec_fn=_limited, cwd=here,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    assert list(here.iterdir()) == [], f"written outside the run directory: {sorted(p.name for p in here.iterdir())}"
    if cwd is None:
        here.rmdir()  # checked empty just above
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = [arcray_error(done.stderr)] if others_print else done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in done.stdout + lines[0]), repr(done.stderr)
    return lines[0]


def arcray_error(stderr: str) -> str:
    """arcray's one error line among what libraries printed (Ray may log after it, at shutdown)."""
    ours = [line for line in stderr.splitlines() if line.startswith("arcray ") and ": error: " in line]
    assert len(ours) == 1, stderr[-2000:]
    return ours[0]


@pytest.fixture
def write(tmp_path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
    return write


# ---------------------------------------------------------------- configs of the wrong shape

@pytest.mark.parametrize("teacher", ["gemini", "[gemini, flash]"])
def test_a_section_that_is_not_a_mapping(write, tmp_path, teacher):
    config = write("collect.yaml", f"tasks: arc1/train\nteacher: {teacher}\n")
    line = one_line(["collect", "--config", str(config), "--out", str(tmp_path / "run")])
    assert "teacher: a section is a mapping" in line and "indented lines" in line


@pytest.mark.parametrize("key, shown", [("1", "1"), ("on", "True")])
def test_keys_that_are_not_text(write, tmp_path, key, shown):
    config = write("collect.yaml", f"tasks: arc1/train\nteacher:\n  backend: search\nevolution:\n  {key}: 2\n")
    line = one_line(["collect", "--config", str(config), "--out", str(tmp_path / "run")])
    assert f"the key {shown} under evolution is not text" in line and "quote it" in line


def test_an_alias_bomb_inside_an_experiment_section(write, tmp_path):
    bomb = "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
    config = write("bomb.yaml", "collect:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + bomb)
    line = one_line(["experiments/arc_distillation.py", "--config", str(config), "--out", str(tmp_path / "run")], script=True)
    assert "aliases" in line and "write the values out" in line
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- task files

def test_a_cell_too_long_for_an_int(write):
    task = write("long.json", json.dumps(TASK).replace("[[1, 2]]", "[[1, " + "9" * 5000 + "]]", 1))
    assert "too long to read" in one_line(["tasks", str(task)])


@pytest.mark.parametrize("task_id", ["[/oops]", "a\x1b[2J\x1b]52;c;aGk=\x07b", "two\nlines", " ", ".", "../../etc/arcray-x", "x" * 65])
def test_task_ids_are_data_not_paths_or_markup(write, task_id):
    source = write("arc-agi_x_challenges.json", json.dumps({task_id: TASK, "fine": TASK}))
    line = one_line(["tasks", str(source)])
    assert "is not a task id" in line and "rename it" in line and "\x1b" not in line
    assert not Path("/etc/arcray-x").exists()


def test_an_id_twice_in_a_kaggle_file(write):
    text = json.dumps(TASK)
    source = write("arc-agi_x_challenges.json", f'{{"ab12": {text}, "cd34": {text}, "ab12": {text}}}')
    assert "the key 'ab12' appears twice" in one_line(["tasks", str(source)])


def test_an_id_in_two_files_of_a_folder(write, tmp_path):
    write("tasks/ab12.json", json.dumps(TASK))
    write("tasks/more.json", json.dumps({"ab12": TASK}))
    line = one_line(["tasks", str(tmp_path / "tasks")])
    assert "task ab12 is defined twice" in line and "ab12.json" in line and "more.json" in line


# ---------------------------------------------------------------- the disk, the model, the numbers

@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """A small real collection (the search teacher, three tasks) and the dataset prepared from it."""
    root = tmp_path_factory.mktemp("made")
    run = subprocess.run([sys.executable, "-m", "arcray", "collect", "--tasks", "arc1/train", "--ids", "3c9b0459,6150a2bd,67a3c6ac",
                          "--teacher", "search", "--out", str(root / "collect")], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    made = subprocess.run([sys.executable, "-m", "arcray", "prepare", "--from", str(root / "collect"), "--out", str(root / "data")],
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    return root


def bwrap_view(*args: str) -> list[str]:
    """This machine as it is, but for the folders ``args`` changes (a read-only bind, a tiny tmpfs)."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    return ["bwrap", "--dev-bind", "/", "/", *args]


def test_prepare_out_naming_a_file(collection, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("mine")
    line = one_line(["prepare", "--from", str(collection / "collect"), "--out", str(target)])
    assert "already exists and is not a folder" in line and "pass another --out" in line
    assert target.read_text() == "mine"


@pytest.mark.parametrize("command", ["collect", "prepare"])
def test_attempts_replaced_by_a_folder(collection, tmp_path, command):
    run = tmp_path / "collect"
    shutil.copytree(collection / "collect", run)
    kept = (run / "attempts.jsonl").read_text()
    (run / "attempts.jsonl").rename(run / "attempts.kept")
    (run / "attempts.jsonl").mkdir()
    args = (["collect", "--tasks", "arc1/train", "--ids", "3c9b0459", "--teacher", "search", "--out", str(run)] if command == "collect"
            else ["prepare", "--from", str(run), "--out", str(tmp_path / "data")])
    line = one_line(args)
    assert "attempts.jsonl' is a folder where a file should be" in line and "move the folder aside" in line
    assert (run / "attempts.kept").read_text() == kept


def test_a_read_only_run_directory(collection, tmp_path):
    run = tmp_path / "collect"
    shutil.copytree(collection / "collect", run)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    line = one_line(["collect", "--tasks", "arc1/train", "--ids", "3c9b0459,007bbfb7", "--teacher", "search", "--out", str(run)],
                    wrap=bwrap_view("--ro-bind", str(run), str(run)), others_print=True)
    assert "read-only file system" in line and "writable" in line
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before  # what was there is kept


def test_a_full_disk_from_the_start(collection, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    line = one_line(["prepare", "--from", str(collection / "collect"), "--out", str(small / "data")],
                    wrap=bwrap_view("--size", "4096", "--tmpfs", str(small)))
    assert "no space left" in line and "re-run the same command to resume" in line


def test_no_space_for_the_model_conversion(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    line = one_line(["generate", "--backend", "hf", "--model", "smollm2-135m", "--prompt", "hi", "--max-new-tokens", "2"],
                    wrap=bwrap_view("--size", str(1 << 20), "--tmpfs", str(cache)), env={"ARCRAY_CACHE_DIR": str(cache)},
                    others_print=True)
    assert "no space left" in line and "models/smollm2-135m" in line


@pytest.mark.parametrize("command", [["generate", "--backend", "hf", "--prompt", "hi"],
                                     ["evaluate", "--tasks", "arc1/eval", "--limit", "1"]])
def test_a_model_that_is_not_there(tmp_path, command):
    line = one_line([*command, "--model", "no-such/model", *(["--out", str(tmp_path / "run")] if command[0] == "evaluate" else [])],
                    env={"HF_HUB_OFFLINE": "1"})
    assert "model 'no-such/model' is not" in line and "pass smollm2-135m" in line
    assert not (tmp_path / "run").exists()


def test_a_max_length_that_drops_every_example(collection, tmp_path):
    line = one_line(["train", "--data", str(collection / "data"), "--model", "smollm2-135m", "--out", str(tmp_path / "train"),
                     "--max-length", "16"], others_print=True)
    assert "--max-length 16 leaves no training example" in line and "pass --max-length above" in line
    assert not (tmp_path / "train").exists()


def test_numbers_are_finite_and_in_range(collection, write, tmp_path):
    config = write("collect.yaml", "tasks: arc1/train\nteacher:\n  backend: gemini\n  model: gemini-2.5-flash\n  timeout_s: 1.0e308\n")
    line = one_line(["collect", "--config", str(config), "--out", str(tmp_path / "run")], env={"GEMINI_API_KEY": "test-key-0123456789"})
    assert "timeout_s: Input should be less than or equal to 3600" in line
    for lr in ("inf", "nan", "5"):
        line = one_line(["train", "--data", str(collection / "data"), "--model", "smollm2-135m", "--out", str(tmp_path / "t"), "--lr", lr])
        assert "lr: Input should be" in line


# ---------------------------------------------------------------- failures that say what they are

def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _collect(config: Path, out: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arcray", "collect", "--config", str(config), "--tasks", "arc1/train",
                           "--ids", "3c9b0459,6150a2bd", "--no-cache", "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **env})


GEMINI = "teacher:\n  backend: gemini\n  model: gemini-2.5-flash\n  retry:\n    max_attempts: 2\n    initial_delay_s: 0.01\n"


def test_an_unreachable_endpoint_is_an_error_and_its_tasks_are_retried(write, tmp_path, fake_gemini):
    from arc_teacher import ArcTeacher
    from fake_gemini import API_KEY

    config, out = write("gemini.yaml", GEMINI), tmp_path / "run"
    dead = f"http://127.0.0.1:{_closed_port()}"
    done = _collect(config, out, {"GOOGLE_GEMINI_BASE_URL": dead, "GEMINI_API_KEY": API_KEY})
    last = arcray_error(done.stderr)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert last.startswith("arcray collect: error: no teacher call of this run was served") and dead in last
    records = [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]
    assert [r["failure"] for r in records] == ["endpoint", "endpoint"]  # kept, and marked as not attempted
    # the endpoint works again: the same command attempts both tasks, without --retry-failed
    fake_gemini.handler = ArcTeacher(["3c9b0459", "6150a2bd"])
    again = _collect(config, out, fake_gemini.env())
    assert again.returncode == 0, again.stderr[-2000:]
    assert fake_gemini.request_count >= 2
    latest = {json.loads(line)["task_id"]: json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()}
    assert all(r["failure"] is None for r in latest.values())


def test_a_quota_wait_of_a_day_fails_at_once(write, tmp_path, fake_gemini):
    from fake_gemini import Reply

    fake_gemini.handler = lambda request: Reply.error(429, retry_delay="86400s")
    done = _collect(write("gemini.yaml", GEMINI), tmp_path / "run", fake_gemini.env())
    last = arcray_error(done.stderr)
    assert done.returncode == 2 and "asks to wait 86400 s" in last and "max_server_delay_s" in last, done.stderr[-2000:]
    # one request per call (never a retry through a day's wait), and each task stops after its first generation:
    # the Analyst and the Programmer's two candidates, for two tasks
    assert fake_gemini.request_count <= 6


def test_a_long_wait_is_printed_with_its_length_and_how_to_stop(write, tmp_path, fake_gemini):
    from arc_teacher import ArcTeacher
    from fake_gemini import Reply

    fake_gemini.script(Reply.error(429, retry_delay="0.2s"))
    fake_gemini.handler = ArcTeacher(["3c9b0459", "6150a2bd"])
    config = write("gemini.yaml", GEMINI + "    announce_wait_s: 0.1\n")
    done = _collect(config, tmp_path / "run", fake_gemini.env())
    assert done.returncode == 0, done.stderr[-2000:]
    assert "waiting 0 s before retrying" in done.stderr and "Ctrl-C stops" in done.stderr


def test_a_disk_that_fills_mid_run_keeps_what_was_written_and_resumes(tmp_path):
    """A 16 KiB disk (4 pages of tmpfs): the manifest, the config and a few records fit, then one is torn. One line;
    then, with room, the same command finishes the rest, and every task is recorded once."""
    ids = "3c9b0459,6150a2bd,67a3c6ac,68b16354,74dd1130,a416b8f3"
    small, out = tmp_path / "small", tmp_path / "out"
    small.mkdir()
    out.mkdir()
    collect = f"{sys.executable} -m arcray collect --tasks arc1/train --ids {ids} --teacher search --concurrency 1 --out"
    script = f"{collect} {small}/run 2> {out}/stderr; echo $? > {out}/code; cp -r {small}/run {out}/run"
    subprocess.run([*bwrap_view("--size", "16384", "--tmpfs", str(small)), "sh", "-c", script], timeout=300, check=True, cwd=ROOT)
    stderr = (out / "stderr").read_text()
    assert (out / "code").read_text().strip() == "2" and "Traceback" not in stderr
    assert "no space left" in arcray_error(stderr) and "re-run the same command to resume" in stderr
    kept = (out / "run" / "attempts.jsonl").read_bytes().split(b"\n")
    whole = [json.loads(line) for line in kept[:-1]]
    assert 1 <= len(whole) < 6  # some records were written whole before the disk filled
    again = subprocess.run([*collect.split(), str(out / "run")], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-2000:]
    recorded = [json.loads(line)["task_id"] for line in (out / "run" / "attempts.jsonl").read_text().splitlines()]
    assert sorted(recorded) == sorted(ids.split(",")) and {r["task_id"] for r in whole} <= set(recorded)


def test_retries_count_against_a_per_task_budget(write, tmp_path, fake_gemini):
    """A server that always answers 503: each call may try 6 times, but all of one task's calls share 3 retries."""
    from fake_gemini import Reply

    fake_gemini.handler = lambda request: Reply.error(503)
    config = write("gemini.yaml", "teacher:\n  backend: gemini\n  model: gemini-2.5-flash\n  retry:\n    max_attempts: 6\n"
                                  "    initial_delay_s: 0.01\n    max_delay_s: 0.02\n    task_retries: 3\n"
                                  "evolution:\n  max_generations: 2\n  population: 2\n")
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "arcray", "collect", "--config", str(config), "--tasks", "arc1/train",
                           "--ids", "3c9b0459", "--no-cache", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **fake_gemini.env()})
    assert done.returncode == 0, done.stderr[-2000:]
    [record] = [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]
    usage = record["usage"]
    assert usage["requests"] - usage["completions"] <= 3, usage  # retries beyond each call's first request
    assert fake_gemini.request_count == usage["requests"]
    assert "task_retries" in record["error"]

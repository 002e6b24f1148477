"""The resumable Ray Data loop every stage's driver runs, on a real local Ray, and its progress lines."""

from __future__ import annotations

import json

import pytest

from arcray.errors import ArcrayError
from arcray.jsonl import Record
from arcray.runtime.progress import Progress
from arcray.runtime.resumable import Failed, append_each_once
from arcray.runtime.rundir import RunDir

RECORDS = "items.jsonl"


class Item(Record):
    key: str
    value: str
    tokens: int = 0


def parse(row: dict) -> Item | Failed:
    record = json.loads(row["record"])
    if record.get("error"):
        return Failed(record["key"], record["error"])
    return Item.model_validate(record)


def dataset(ray, keys: list[str]):
    def work(row: dict) -> dict:
        """A worker's answer: the item's record, or an error row (its item is retried by the next run).
        Nested, and using nothing of this module, so that Ray ships it by value to workers that cannot import tests."""
        key = row["key"]
        if key == "crash":
            raise RuntimeError("worker lost\nsecond line of the traceback")
        if key.startswith("bad"):
            return {"record": json.dumps({"key": key, "error": f"no answer for {key}"})}
        return {"record": json.dumps({"key": key, "value": key.upper(), "tokens": len(key)})}

    return ray.data.from_items([{"key": k} for k in keys], override_num_blocks=3).map(work)


def run_loop(ray, run: RunDir, keys: list[str], done: dict[str, Item]) -> tuple[set[str], Progress]:
    progress = Progress(stage="test", run=run.path.name, total=len(set(keys)), done=len(done), unit="item", enabled=False)
    failed = append_each_once(dataset(ray, keys).iter_rows(), run=run, records=RECORDS, done=done, parse=parse,
                              key=lambda item: item.key, progress=progress, tally=lambda item: {"tokens": item.tokens},
                              latest=lambda item: {"last": item.key})
    return failed, progress


def recorded(run: RunDir) -> list[str]:
    return [json.loads(line)["key"] for line in run.file(RECORDS).read_text().splitlines()]


def test_each_key_is_appended_once_and_recorded_keys_are_skipped(local_ray, tmp_path):
    run = RunDir(tmp_path / "run")
    with run.appender(RECORDS) as earlier:  # an earlier run recorded "c"
        earlier.append(Item(key="c", value="from the earlier run").to_json())
    done = {item.key: item for item in map(Item.model_validate, run.resume_records(RECORDS))}

    keys = ["a", "b", "a", "c", "bad1", "b", "dd", "bad1", "a"]  # rows repeat; "bad1" fails twice
    failed, progress = run_loop(local_ray, run, keys, done)

    lines = recorded(run)
    assert lines[0] == "c" and sorted(lines) == ["a", "b", "c", "dd"]  # each once; the earlier record untouched
    assert done["c"].value == "from the earlier run" and done["dd"].value == "DD"
    assert failed == {"bad1"}
    assert progress.done == 4 and progress.resumed == 1
    assert progress.counters == {"tokens": 4, "errors": 1}  # a, b, dd this run; one failed item, counted once
    assert progress.latest["last_error"] == "no answer for bad1"

    again, _ = run_loop(local_ray, run, keys, done)  # a re-run over the same rows writes nothing
    assert recorded(run) == lines and again == {"bad1"}


def test_a_ray_failure_is_one_line_that_keeps_what_was_recorded(local_ray, tmp_path):
    run = RunDir(tmp_path / "run")
    done: dict[str, Item] = {}
    with pytest.raises(ArcrayError) as stopped:
        run_loop(local_ray, run, ["a", "crash", "b"], done)
    message = str(stopped.value)
    assert "\n" not in message
    assert message.startswith("test stopped (") and "worker lost" in message and "second line" not in message
    assert message.endswith(f"the {len(done)} item(s) recorded in {run.file(RECORDS)} are kept: re-run the same "
                            "command to resume")
    assert sorted(recorded(run)) == sorted(done)  # what was appended before the failure stays, and is in done


def test_plain_log_lines_show_the_rate_and_eta_of_this_run_only(capsys):
    now = [100.0]
    progress = Progress(stage="collect", run="r1", total=6, done=2, clock=lambda: now[0], solved=1)
    now[0] = 120.0
    progress.advance(solved=1)  # one item in 20 s: 3 left → a minute (counting the 2 resumed would say 20 s)
    now[0] = 125.0
    progress.failed("TimeoutError:   the   teacher\ntimed out")
    progress.advance(solved=0)  # 5 s after the last line: not logged yet
    progress.close()  # the last state is always logged
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "[collect r1] 2/6 tasks done, ?task/s, ETA ?, 2 resumed, solved 1",
        "[collect r1] 3/6 tasks done, 20.00s/task, ETA 01:00, 2 resumed, solved 2",
        "[collect r1] 4/6 tasks done, 12.50s/task, ETA 00:25, 2 resumed, solved 2, errors 1, "
        "last_error TimeoutError: the teacher timed out",
    ]


def test_a_disabled_progress_prints_nothing(capsys):
    progress = Progress(stage="collect", run="r1", total=2, enabled=False, clock=lambda: 0.0)
    progress.advance()
    progress.close()
    assert capsys.readouterr().err == "" and progress.done == 1

"""Ray Train with 2 DDP workers (gloo) on 2 nodes, resumed from its checkpoint after one node dies; Ray Tune trials on
several nodes with ``storage_path`` on a real S3-compatible server."""

from __future__ import annotations

import json
import threading
import time

import pytest

from arcray.training.config import TrainConfig
from arcray.training.train import run_training
from arcray.tuning.config import TuneSettings
from arcray.tuning.run import run_tune
from arcray.validation import build_config

pytestmark = pytest.mark.multinode

STEPS_PER_EPOCH = 3  # 12 train examples, batch 2 per worker, 2 workers


def record_nodes_and_hang_once(folder):
    """A callback: each worker writes the node it runs on at the start; at the start of epoch 2, rank 1 (once, the
    marker outlives the restart) says where it is and waits there for the test to kill its node."""
    from transformers import TrainerCallback

    class Callback(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            import ray.train

            rank = ray.train.get_context().get_world_rank()
            (folder / f"rank{rank}-{time.time_ns()}").write_text(ray.get_runtime_context().get_node_id())

        def on_epoch_begin(self, args, state, control, **kwargs):
            import ray.train

            marker = folder / "kill-me"
            if state.global_step >= STEPS_PER_EPOCH and ray.train.get_context().get_world_rank() == 1 \
                    and not marker.exists():
                marker.write_text(ray.get_runtime_context().get_node_id())
                time.sleep(600)  # the node dies under it

    import ray  # noqa: F401  (the callback's closure runs on the workers)
    return Callback()


def test_ddp_on_two_nodes_resumes_from_its_checkpoint_after_a_node_dies(nodes, tmp_path, chat_data, tiny_base):
    nodes.top_up(3)  # two for the workers, one spare for the restarted group
    folder = tmp_path / "events"
    folder.mkdir()
    config = TrainConfig.build(data=chat_data, model=str(tiny_base), out=tmp_path / "train", epochs=2, batch_size=2,
                               grad_accum=1, lr=1e-2, load_in_4bit=False, merge=False, workers=2, cpus_per_worker=1.0,
                               memory_gib_per_worker=0.5, max_failures=1)
    killed = {}

    def kill_the_marked_node():
        marker, reported = folder / "kill-me", config.out / "metrics.jsonl"
        # rank 1 waits at epoch 2 and the controller has taken epoch 1's report (it writes metrics.jsonl then):
        # the checkpoint is registered, so the node dies after it, as the test means
        while not marker.is_file() or not marker.read_text() or not reported.is_file() or not reported.read_text():
            time.sleep(0.1)
        killed["node"] = nodes.kill(marker.read_text())

    killer = threading.Thread(target=kill_the_marked_node, daemon=True)
    killer.start()
    summary = run_training(config, callbacks=[record_nodes_and_hang_once(folder)])
    killer.join(timeout=60)

    starts = sorted(folder.glob("rank*"), key=lambda p: int(p.name.split("-")[1]))
    first, restarted = starts[:2], starts[2:]
    assert len({p.read_text() for p in first}) == 2  # the two workers of the first group ran on two nodes
    assert killed["node"] in {p.read_text() for p in first}
    assert len(restarted) == 2 and killed["node"] not in {p.read_text() for p in restarted}
    assert summary["resumed_from_steps"] == [STEPS_PER_EPOCH]  # from the epoch-1 checkpoint, not from scratch
    assert summary["steps"] == 2 * STEPS_PER_EPOCH
    epochs = [json.loads(line) for line in (config.out / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in epochs] == [STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]  # each epoch reported once
    assert (config.out / "adapter" / "adapter_model.safetensors").is_file()


def test_tune_trials_on_several_nodes_keep_their_storage_on_s3(nodes, tmp_path, chat_data, tiny_base, s3):
    from pyarrow import fs

    storage = s3("tune-run")
    settings = build_config(TuneSettings, "tune config", data=chat_data, model=str(tiny_base), out=tmp_path / "tune",
                            train={"batch_size": 4, "grad_accum": 1, "load_in_4bit": False, "max_length": 128,
                                   "merge": False, "memory_gib_per_worker": 0.5},
                            space={"lora_r": {"choice": [2, 4]}, "epochs": {"choice": [1]}},
                            num_samples=2, max_concurrent=2, cpus_per_trial=1.0, asha={"enabled": False}, storage_path=storage,
                            tracking={"backend": "none"})
    summary = run_tune(settings)
    assert summary["trials"] == 2 and summary["errored"] == 0 and summary["finished"] == 2
    trial_nodes = {json.loads(line)["node"] for path in (settings.out / "trials").glob("*/train/metrics.jsonl")
                   for line in path.read_text().splitlines()}
    assert len(trial_nodes) == 2 and trial_nodes <= nodes.worker_ids()  # the two trials at once, one per node

    filesystem, root = fs.FileSystem.from_uri(storage)
    names = {info.path.removeprefix(root + "/") for info in filesystem.get_file_info(fs.FileSelector(root, recursive=True))}
    assert any(name.endswith("tuner.pkl") for name in names)  # the experiment's state, restorable from the bucket
    assert sum(name.endswith("result.json") for name in names) == 2  # each trial's results, written from its node

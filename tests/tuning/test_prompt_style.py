"""ARC trials score a student on the prompt style its data was rendered with, wherever prepare recorded it."""

import json

import pytest

from arcray.errors import ArcrayError
from arcray.runtime.manifest import Manifest, now, provenance, write_manifest
from arcray.tuning.trial import dataset_render

COMPACT = {"prompt": "compact", "test_inputs": False, "max_train_pairs": 2, "exemplars": 4}


def prepare_manifest(data, exports):
    data.mkdir(parents=True, exist_ok=True)
    write_manifest(data, Manifest(stage="prepare", status="complete", config={}, provenance=provenance(),
                                  started_at=now(), exports=exports))


def test_the_manifest_s_exports_give_the_prompt_and_the_exemplar_pool(tmp_path):
    data = tmp_path / "data"
    pool = tmp_path / "elsewhere" / "exemplars.json"
    prepare_manifest(data, {"render": {**COMPACT, "exemplar_pool": "stale.json"}, "exemplar_pool": str(pool)})
    (data / "stats.json").write_text(json.dumps({"config": {"render": {"prompt": "full"}}}))  # the manifest wins
    render = dataset_render(data)
    assert render.prompt == "compact" and not render.test_inputs and render.max_train_pairs == 2
    assert render.exemplars == 4 and render.exemplar_pool == str(pool)


def test_a_manifest_without_a_pool_export_points_at_the_data_s_own_pool(tmp_path):
    data = tmp_path / "data"
    prepare_manifest(data, {"render": COMPACT})
    assert dataset_render(data).exemplar_pool == str((data / "exemplars.json").resolve())
    prepare_manifest(data, {"render": {"prompt": "compact"}})  # no exemplars: no pool
    assert dataset_render(data).exemplar_pool is None


def test_older_prepares_are_read_from_config_json_then_stats_json(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "stats.json").write_text(json.dumps({"config": {"render": {"prompt": "compact", "facts": True}}}))
    assert dataset_render(data).prompt == "compact" and dataset_render(data).facts
    (data / "config.json").write_text(json.dumps({"render": {"prompt": "full", "exemplar_pool": [{"old": "pool"}]}}))
    assert dataset_render(data).prompt == "full" and dataset_render(data).exemplar_pool is None


def test_data_that_does_not_say_its_prompt_style_is_one_line(tmp_path):
    with pytest.raises(ArcrayError, match=r"does not record the prompt style.*prepare it again with `arcray prepare`") as caught:
        dataset_render(tmp_path)
    assert "\n" not in str(caught.value)
    (tmp_path / "config.json").write_text(json.dumps({"render": {"prompt": "verbose"}}))
    with pytest.raises(ArcrayError, match=r"not one this arcray renders \(render: prompt: Input should be 'full' or 'compact'"):
        dataset_render(tmp_path)

"""The task-source registry: each kind a module, looked up by name or recognised from a bare spec."""

import json
import pkgutil

import pytest

import arcray.arc.sources as sources
from arcray.arc.sources import all_sources, get_source, register_source, source_names
from arcray.arc.tasks import load_tasks
from arcray.errors import ConfigError, TaskFormatError

TASK = {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]], "output": [[4]]}]}


def test_every_module_of_the_package_registers_a_source():
    modules = {m.name for m in pkgutil.iter_modules(sources.__path__) if not m.name.startswith("_") and m.name != "registry"}
    registered = {s.load.__module__.rsplit(".", 1)[-1] for s in all_sources()}
    assert modules == registered
    assert {"bundled", "file", "folder", "kaggle", "rearc"} <= set(source_names())


def test_prefixed_specs_load_what_the_bare_ones_do(tmp_path):
    assert load_tasks("bundled:arc1/train", limit=3) == load_tasks("arc1/train", limit=3)
    (tmp_path / "t1.json").write_text(json.dumps(TASK))
    (tmp_path / "arc-agi_x_challenges.json").write_text(json.dumps({"k1": TASK}))
    assert [t.id for t in load_tasks(f"folder:{tmp_path}")] == [t.id for t in load_tasks(tmp_path)] == ["k1", "t1"]
    assert [t.id for t in load_tasks(f"file:{tmp_path / 't1.json'}")] == ["t1"]
    assert [t.id for t in load_tasks(f"kaggle:{tmp_path / 'arc-agi_x_challenges.json'}")] == ["k1"]


def test_a_prefix_insists_on_its_kind(tmp_path):
    (tmp_path / "t1.json").write_text(json.dumps(TASK))
    with pytest.raises(TaskFormatError, match=r"t1\.json: expected task ids mapped to tasks .*drop the 'kaggle:' prefix"):
        load_tasks(f"kaggle:{tmp_path / 't1.json'}")
    with pytest.raises(TaskFormatError, match=r"^folder:.*t1\.json: not a folder; folder: takes a folder$"):
        load_tasks(f"folder:{tmp_path / 't1.json'}")
    with pytest.raises(TaskFormatError, match=r"^file: needs a file after the colon: file:FILE$"):
        load_tasks("file:")


def test_a_bundled_name_wins_over_a_folder_of_that_name(tmp_path, monkeypatch):
    (tmp_path / "arc1" / "train").mkdir(parents=True)
    (tmp_path / "arc1" / "train" / "t1.json").write_text(json.dumps(TASK))
    monkeypatch.chdir(tmp_path)
    assert len(load_tasks("arc1/train")) == 400
    assert [t.id for t in load_tasks("folder:arc1/train")] == ["t1"]


def test_unknown_specs_name_the_kinds_and_the_closest_match(tmp_path):
    with pytest.raises(TaskFormatError, match=r"'kagle:x.json' \(did you mean 'kaggle'\?\): give a bundled set .*or rearc:FOLDER"):
        load_tasks("kagle:x.json")
    with pytest.raises(TaskFormatError, match=r"\(no such file or folder\)"):
        load_tasks(tmp_path / "absent.json")
    with pytest.raises(TaskFormatError, match=r"no bundled set 'arc2/evl' \(did you mean 'arc2/eval'\?\)"):
        load_tasks("bundled:arc2/evl")
    with pytest.raises(TaskFormatError, match=r"unknown task source 'folders' \(did you mean 'folder'\?\)"):
        get_source("folders")


def test_registering_a_taken_or_malformed_name_is_refused():
    before = all_sources()
    with pytest.raises(ConfigError, match="'rearc' is already registered"):
        register_source("rearc", syntax="x", summary="x")(lambda arg: [])
    with pytest.raises(ConfigError, match="lower-case letters, digits and _"):
        register_source("re:arc", syntax="x", summary="x")
    assert all_sources() == before

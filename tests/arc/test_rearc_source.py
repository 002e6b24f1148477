"""The re-arc source: a folder of <task_id>.json lists of generated examples, one task per file."""

import json

import pytest

from arcray.arc.sources import get_source, source_names
from arcray.arc.tasks import Example, load_tasks
from arcray.errors import TaskFormatError

REAL_IDS = ("007bbfb7", "00d62c1b", "09629e4f")  # arc1/train tasks with at least 5 examples each


def _examples(task):
    return [{"input": e.input, "output": e.output} for e in task.train + task.test]


@pytest.fixture
def rearc_root(tmp_path):
    """re-arc's output layout, its examples taken from real arc1/train tasks."""
    root = tmp_path / "re_arc"
    (root / "tasks").mkdir(parents=True)
    examples = {}
    for task in load_tasks("arc1/train", ids=REAL_IDS):
        examples[task.id] = _examples(task)
        (root / "tasks" / f"{task.id}.json").write_text(json.dumps(examples[task.id]))
    (root / "metadata.json").write_text(json.dumps({i: {"n_generations": 5} for i in REAL_IDS}))
    return root, examples


def test_default_takes_three_train_pairs_and_one_test_per_file(rearc_root):
    root, examples = rearc_root
    tasks = load_tasks(f"rearc:{root}")
    assert [t.id for t in tasks] == sorted(REAL_IDS)
    for task in tasks:
        written = [Example(e["input"], e["output"]) for e in examples[task.id]]
        assert task.train == tuple(written[:3])
        assert task.test == (written[3],)
        assert task.has_test_outputs
        assert task.source == f"rearc:{root}"


def test_options_set_the_split_and_the_tasks_folder_may_be_given(rearc_root):
    root, examples = rearc_root
    for spec in (f"rearc:{root / 'tasks'}:train=2:test=2", f"rearc:{root}:test=2:train=2"):
        task = load_tasks(spec, ids=["00d62c1b"])[0]
        written = [Example(e["input"], e["output"]) for e in examples["00d62c1b"]]
        assert (task.train, task.test) == (tuple(written[:2]), tuple(written[2:4]))


def test_a_file_written_from_a_task_loads_back_as_that_task(tmp_path):
    original = load_tasks("arc1/train", ids=["09629e4f"])[0]
    (tmp_path / "09629e4f.json").write_text(json.dumps(_examples(original)))
    loaded = load_tasks(f"rearc:{tmp_path}:train={len(original.train)}:test={len(original.test)}")
    assert loaded == [original]


def test_ids_and_limit_select_as_for_any_source(rearc_root):
    root, _ = rearc_root
    assert [t.id for t in load_tasks(f"rearc:{root}", ids=["09629e4f", "007bbfb7"])] == ["09629e4f", "007bbfb7"]
    assert [t.id for t in load_tasks(f"rearc:{root}", limit=1)] == ["007bbfb7"]
    with pytest.raises(TaskFormatError, match="did you mean '09629e4f'"):
        load_tasks(f"rearc:{root}", ids=["09629e4e"])


GRID = [[1, 2], [3, 4]]


def _pair(**change):
    return {"input": GRID, "output": GRID, **change}


@pytest.mark.parametrize(
    "content,expected",
    [
        ({"train": [_pair()], "test": [_pair()]}, r"expected a JSON list of \{input, output\} examples .*drop the 'rearc:' prefix"),
        ([_pair(), _pair(input=[[1, 2], [3]]), _pair(), _pair()], r"task bad: example 1 \(train\[1\]\) input: ragged grid"),
        ([_pair(), _pair(), _pair(), _pair(output=[[12]])], r"task bad: example 3 \(test\[0\]\) output: cell \(0,0\) is 12"),
        ([_pair(), _pair(), _pair(), {"input": GRID}], r"example 3 \(test\[0\]\): missing 'output'; re-arc examples all have one"),
        ([_pair(), _pair(), [[1]], _pair()], r"example 2 \(train\[2\]\): an example must be an object"),
        ([_pair(), _pair()], r"2 example\(s\), but train=3 \+ test=1 need 4; lower them in rearc:FOLDER"),
        ('[{"input": [[1]]', r"not valid JSON"),
    ],
)
def test_a_malformed_file_gets_one_line_naming_it_and_the_problem(tmp_path, content, expected):
    (tmp_path / "good.json").write_text(json.dumps([_pair()] * 4))
    bad = tmp_path / "bad.json"
    bad.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(TaskFormatError, match=expected) as info:
        load_tasks(f"rearc:{tmp_path}")
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "options,expected",
    [
        (":trian=3", r"unknown option 'trian' \(did you mean 'train'\?\)"),
        (":train=0", r"train=0 must be a whole number 1 or more"),
        (":test=two", r"test=two must be a whole number 1 or more"),
        (":train=2:train=3", r"train= is given twice"),
    ],
)
def test_bad_options_are_refused_before_any_file_is_read(tmp_path, options, expected):
    with pytest.raises(TaskFormatError, match=expected):
        load_tasks(f"rearc:{tmp_path / 'absent'}{options}")


def test_missing_and_empty_folders_say_what_to_give(tmp_path):
    with pytest.raises(TaskFormatError, match=r"rearc:.*absent: no such folder"):
        load_tasks(f"rearc:{tmp_path / 'absent'}")
    with pytest.raises(TaskFormatError, match=r"no <task_id>\.json files; give re-arc's output folder"):
        load_tasks(f"rearc:{tmp_path}")


def test_the_plain_folder_source_points_a_rearc_folder_at_rearc(rearc_root):
    root, _ = rearc_root
    with pytest.raises(TaskFormatError, match=r"got a list; a list of examples is re-arc's layout: load its folder as rearc:FOLDER"):
        load_tasks(root / "tasks")


def test_rearc_is_registered_and_a_misspelt_source_name_gets_did_you_mean(rearc_root):
    root, _ = rearc_root
    assert "rearc" in source_names()
    with pytest.raises(TaskFormatError, match=r"no task source 'rearcc:.*' \(did you mean 'rearc'\?\)"):
        load_tasks(f"rearcc:{root}")
    with pytest.raises(TaskFormatError, match=r"unknown task source 're-arc' \(did you mean 'rearc'\?\)"):
        get_source("re-arc")

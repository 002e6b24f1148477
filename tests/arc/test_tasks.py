import json

import pytest

from arcray.arc.tasks import BUNDLED, load_tasks
from arcray.errors import TaskFormatError


@pytest.mark.parametrize("name,count", [("arc1/train", 400), ("arc1/eval", 400), ("arc2025/train", 1000), ("arc2025/eval", 120), ("arc2/train", 1000), ("arc2/eval", 120)])
def test_bundled_sets_have_their_published_sizes(name, count):
    tasks = load_tasks(name)
    assert len(tasks) == count
    assert all(t.has_test_outputs for t in tasks)
    assert [t.id for t in tasks] == sorted(t.id for t in tasks)


def test_selection_by_ids_keeps_order_and_by_limit():
    tasks = load_tasks("arc1/train", ids=["3c9b0459", "007bbfb7"])
    assert [t.id for t in tasks] == ["3c9b0459", "007bbfb7"]
    assert [t.id for t in load_tasks("arc1/train", limit=2)] == ["007bbfb7", "00d62c1b"]


def test_unknown_id_and_source_suggest_the_fix():
    with pytest.raises(TaskFormatError, match="did you mean '3c9b0459'"):
        load_tasks("arc1/train", ids=["3c9b0458"])
    with pytest.raises(TaskFormatError, match="did you mean 'arc1/train'"):
        load_tasks("arc1/trian")


def _task(train_input=((1, 2), (3, 4)), **extra):
    task = {"train": [{"input": [list(r) for r in train_input], "output": [[1]]}], "test": [{"input": [[5]]}]}
    task.update(extra)
    return task


def test_kaggle_file_picks_up_solutions_beside_it(tmp_path):
    challenges = tmp_path / "arc-agi_test_challenges.json"
    challenges.write_text(json.dumps({"aaa": _task(), "bbb": _task()}))
    tasks = load_tasks(challenges)
    assert [t.has_test_outputs for t in tasks] == [False, False]  # loads without solutions
    (tmp_path / "arc-agi_test_solutions.json").write_text(json.dumps({"aaa": [[[7]]], "bbb": [[[8]]]}))
    tasks = load_tasks(str(challenges))
    assert [t.test[0].output for t in tasks] == [[[7]], [[8]]]


def test_folder_of_task_files(tmp_path):
    for name in ("b2", "a1"):
        (tmp_path / f"{name}.json").write_text(json.dumps(_task()))
    assert [t.id for t in load_tasks(tmp_path)] == ["a1", "b2"]
    assert load_tasks(tmp_path / "a1.json")[0].id == "a1"


@pytest.mark.parametrize(
    "task,expected",
    [
        (_task(train_input=((1, 2), (3,))), r"task t1: train\[0\] input: ragged grid: row 1 has 1 cells"),
        (_task(train_input=((1, 12),)), r"task t1: train\[0\] input: cell \(0,1\) is 12; colours are integers 0-9"),
        (_task(train_input=[[0] * 31]), r"task t1: train\[0\] input: grid is 1x31; ARC grids are at most 30x30"),
        ({"train": [], "test": [{"input": [[1]]}]}, r"task t1: empty train set"),
        ({"train": [{"output": [[1]]}], "test": [{"input": [[1]]}]}, r"task t1: train\[0\]: missing 'input'"),
        ({"train": [{"input": [[1]]}], "test": [{"input": [[1]]}]}, r"task t1: train\[0\]: missing 'output'"),
    ],
)
def test_malformed_tasks_name_file_task_and_problem(tmp_path, task, expected):
    path = tmp_path / "t1.json"
    path.write_text(json.dumps(task))
    with pytest.raises(TaskFormatError, match=expected) as info:
        load_tasks(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_invalid_json_is_one_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"train": [')
    with pytest.raises(TaskFormatError, match=r"broken.json: not valid JSON"):
        load_tasks(path)


def test_bundled_registry_names():
    assert {"arc1/train", "arc1/eval", "arc2025/train", "arc2025/eval", "arc2/train", "arc2/eval"} <= set(BUNDLED)


def test_tasks_are_picked_by_the_cells_their_prompt_shows():
    small = load_tasks("arc1/eval", max_cells=800)
    assert 100 <= len(small) < 400 and all(t.prompt_cells <= 800 for t in small)
    task = small[0]
    grids = [g for e in task.train for g in (e.input, e.output)] + [e.input for e in task.test]
    assert task.prompt_cells == sum(len(g) * len(g[0]) for g in grids)
    assert load_tasks("arc1/eval", max_cells=800, limit=5) == small[:5]  # size first, then the limit

from arcray.arc.render import RenderConfig, extract_code, render_grid, render_task
from arcray.arc.tasks import Example, Task, load_tasks

GRID = [[0, 1, 2], [3, 4, 5]]


def test_grid_formats():
    assert render_grid(GRID) == "012\n345"
    assert render_grid(GRID, RenderConfig(grid_format="spaced")) == "0 1 2\n3 4 5"
    assert render_grid(GRID, RenderConfig(grid_format="json")) == "[0, 1, 2]\n[3, 4, 5]"


def test_task_rendering_hides_test_outputs_by_default():
    task = Task("t", (Example(GRID, [[9]]),), (Example([[7]], [[8]]),))
    text = render_task(task)
    assert "Example 1\nInput (2x3):\n012\n345\nOutput (1x1):\n9" in text
    assert "Test 1\nInput (1x1):\n7" in text and "8" not in text
    assert "Output (1x1):\n8" in render_task(task, RenderConfig(include_test_outputs=True))


def test_last_fenced_solve_block_wins():
    text = "```python\ndef solve(g):\n    return 1\n```\nbetter:\n```py\ndef solve(g):\n    return 2\n```\n```\nnot code\n```"
    assert extract_code(text) == "def solve(g):\n    return 2\n"


def test_fenced_blocks_without_solve_are_ignored():
    assert extract_code("```python\nprint(1)\n```") is None
    assert extract_code("nothing here") is None


def test_plain_code_with_prose_around_it():
    text = "Here is my answer:\nimport numpy as np\n\ndef solve(grid):\n    return np.array(grid).T.tolist()\nThis transposes."
    code = extract_code(text)
    assert code.startswith("import numpy as np") and "This transposes" not in code
    assert extract_code("def solve(g):\n    return g\n") == "def solve(g):\n    return g\n"


def test_the_compact_student_prompt_and_the_library_for_a_teacher():
    from arcray.arc.render import RenderConfig
    from arcray.arc.tasks import load_tasks
    from arcray.civilization import prompts

    task = load_tasks("arc1/train", ids=["1e0a9b12"])[0]
    compact = RenderConfig(prompt="compact", test_inputs=False, max_train_pairs=2)
    system, user = prompts.programmer_prompt(task, "", compact)
    assert "arcdsl" in system["content"] and user["content"].endswith("Write solve(grid) for this task with arcdsl.")
    assert "Example 2" in user["content"] and "Example 3" not in user["content"] and "Test 1" not in user["content"]
    full = prompts.programmer_prompt(task, "", RenderConfig(library=True))[1]["content"]
    assert "from arcdsl import *" in full and 'gravity(grid: grid, direction: "down" | "up" | "left" | "right") -> grid' in full and "Test 1" in full
    assert "arcdsl" not in prompts.programmer_prompt(task, "", RenderConfig())[1]["content"]


def test_the_facts_line_states_what_every_train_pair_shows():
    from arcray.arc.facts import task_facts

    tasks = {t.id: t for t in load_tasks("arc1/train", ids=["007bbfb7", "b1948b0a", "0520fde7", "6d0aefbc", "1cf80156", "5bd6f4ac"])}
    assert task_facts(tasks["007bbfb7"]) == "Output size: input x3 rows, x3 columns. Colours added: none; removed: none."
    assert task_facts(tasks["b1948b0a"]) == "Output size: same as the input. Colours added: 2; removed: 6."
    assert task_facts(tasks["0520fde7"]).startswith("Output size: always 3x3.")  # 3x7 -> 3x3: not a scale
    assert task_facts(tasks["6d0aefbc"]).startswith("Output size: input x1 rows, x2 columns.")
    assert task_facts(tasks["1cf80156"]).startswith("Output size: smaller than the input, varying.")
    assert task_facts(tasks["5bd6f4ac"]).startswith("Output size: input /3 rows, /3 columns.")


def test_the_facts_come_from_every_train_pair_and_never_from_a_test_output():
    shown = Task("t", (Example([[1, 0]], [[2, 0]]), Example([[3, 3]], [[3, 3, 3, 3]])), (Example([[1]], [[7, 7]]),))
    config = RenderConfig(prompt="compact", test_inputs=False, max_train_pairs=1, facts=True)
    text = render_task(shown, config)
    assert "Example 2" not in text and text.endswith("Output size: larger than the input, varying. Colours added: 2; removed: 1.")
    assert "7" not in text
    assert "Colours" not in render_task(shown, RenderConfig(prompt="compact"))

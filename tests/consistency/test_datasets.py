"""Loading GSM8K, MBPP and prompt files; one-line errors for what is wrong."""

import json

import pytest

from arcray.consistency import DatasetSpec, Judge, load_problems
from arcray.errors import ArcrayError, ConfigError


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_gsm8k_format(tmp_path):
    path = write_jsonl(tmp_path / "gsm8k.jsonl", [
        {"question": "Tom has 3 apples and buys 1,200 more. How many?", "answer": "3+1200=<<3+1200=1203>>1203\n#### 1,203"},
        {"question": "Q2", "answer": "#### -4"},
    ])
    problems = load_problems(DatasetSpec(source=f"gsm8k:{path}"))
    assert [p.reference for p in problems] == ["1203", "-4"]
    assert problems[0].category == "math" and problems[0].id == "gsm8k-1"
    assert load_problems(DatasetSpec(source=str(path), limit=1))[0].reference == "1203"  # told apart by its keys


def test_gsm8k_without_final_answer(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"question": "Q", "answer": "no marker"}])
    with pytest.raises(ArcrayError, match=r"line 1: the answer does not end in '#### N'"):
        load_problems(DatasetSpec(source=f"gsm8k:{path}"))


def test_mbpp_format_is_judged_by_its_asserts(tmp_path):
    path = write_jsonl(tmp_path / "mbpp.jsonl", [{
        "task_id": 11, "text": "Write a function to add two numbers.",
        "code": "def add(a, b):\n    return a + b", "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
        "test_setup_code": "",
    }])
    [problem] = load_problems(DatasetSpec(source=f"mbpp:{path}"))
    assert problem.id == "mbpp/11" and problem.entry_point == "add" and "assert add(1, 2) == 3" in problem.prompt[0]["content"]
    with Judge() as judge:
        assert judge.answer(problem, f"```python\n{problem.solution}\n```").correct
        assert not judge.answer(problem, "```python\ndef add(a, b):\n    return a - b\n```").correct


def test_prompt_files_take_category_and_reference(tmp_path):
    path = write_jsonl(tmp_path / "prompts.jsonl", [
        {"id": "k1", "prompt": "Capital of France?", "reference": "Paris", "category": "knowledge"},
        {"prompt": [{"role": "user", "content": "A haiku about rain"}]},
    ])
    with pytest.raises(ConfigError, match="line 2: no category"):
        load_problems(DatasetSpec(source=f"prompts:{path}"))
    problems = load_problems(DatasetSpec(source=f"prompts:{path}", category="knowledge"))
    assert problems[0].reference == "Paris" and problems[1].prompt == [{"role": "user", "content": "A haiku about rain"}]
    with Judge() as judge:
        assert judge.answer(problems[0], "The answer is: paris.").correct


def test_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'humaneval'"):
        load_problems(DatasetSpec(source="humaneva"))
    with pytest.raises(ConfigError, match="no such file"):
        load_problems(DatasetSpec(source="gsm8k:/nonexistent.jsonl"))
    with pytest.raises(ConfigError, match="needs a file"):
        load_problems(DatasetSpec(source="mbpp"))
    with pytest.raises(ConfigError, match="endless; pass --limit"):
        load_problems(DatasetSpec(source="arith"))
    with pytest.raises(ConfigError, match="holds code problems, not math"):
        load_problems(DatasetSpec(source="humaneval", category="math"))
    with pytest.raises(ConfigError, match="cannot tell the format"):
        load_problems(DatasetSpec(source=str(write_jsonl(tmp_path / "x.jsonl", [{"foo": 1}]))))
    with pytest.raises(ConfigError, match="unknown key 'limt'.*did you mean 'limit'"):
        from arcray.validation import build_config

        build_config(DatasetSpec, "dataset", source="arith", limt=3)

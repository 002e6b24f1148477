"""A category is one module: written here to tmp_path and imported, it is accepted everywhere a
category is (names, temperatures, configs, problems, prompt files, the judge, gates) with no other
file edited. Unknown names get "did you mean"; a name is registered once."""

import importlib.util
import json

import pytest

from arcray.consistency import (
    CATEGORIES,
    DEFAULT_SOURCES,
    DEFAULT_TEMPERATURES,
    DatasetSpec,
    Gate,
    Judge,
    Problem,
    TemperatureTable,
    evaluate_gates,
    load_problems,
    parse_category,
    score_responses,
    scoreboard,
)
from arcray.consistency.categories import REGISTRY, CategorySpec, Temperatures, get_category, register_category
from arcray.consistency.datasets import default_source
from arcray.consistency.metrics import per_prompt
from arcray.errors import ArcrayError, ConfigError
from arcray.validation import build_config

# A whole new category, as its author would write it: its own extractor, judge and prompt.
ESTIMATE_MODULE = '''
"""ESTIMATE: a rough number; correct within a tenth of the reference."""

import re

from arcray.consistency import Answer, CategorySpec, Temperatures, register_category
from arcray.consistency.extract import normalize_number

_ROUGHLY = re.compile(r"(?:about|roughly|around)\\s+(-?\\d+(?:\\.\\d+)?)", re.IGNORECASE)


def extract_estimate(text):
    found = _ROUGHLY.findall(text)
    return normalize_number(found[-1]) if found else None


def within_a_tenth(problem, responses, tools):
    reference = float(problem.reference)
    answers = []
    for text in responses:
        key = extract_estimate(text) if text is not None else None
        answers.append(Answer(key, key is not None and abs(float(key) - reference) <= abs(reference) / 10))
    return answers


def estimate_prompt(text):
    return [{"role": "user", "content": text.strip() + "\\n\\nGive your best estimate: 'about N'."}]


ESTIMATE = register_category(CategorySpec(
    name="estimate",
    temperatures=Temperatures(generate=0.3, train=0.1),
    description="Fermi questions",
    extract=extract_estimate,
    judge=within_a_tenth,
    prompt=estimate_prompt,
    requires=("reference",),
))
'''


def import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def estimate_module(tmp_path):
    """The module file, not yet imported; the category it registers is removed afterwards."""
    path = tmp_path / "estimate_category.py"
    path.write_text(ESTIMATE_MODULE)
    yield path
    REGISTRY.pop("estimate", None)


@pytest.fixture
def estimate(estimate_module):
    return import_file(estimate_module, "estimate_category")


def test_the_module_registers_the_category_and_names_accept_it(estimate_module):
    with pytest.raises(ConfigError, match="unknown category 'estimate'"):
        parse_category("estimate")
    table_before = TemperatureTable()
    import_file(estimate_module, "estimate_category")
    assert parse_category(" Estimate ") == "estimate"
    assert tuple(CATEGORIES)[-1] == "estimate" and "estimate" in CATEGORIES  # the exported names are live
    assert get_category("estimate").description == "Fermi questions"
    assert table_before["estimate"] == Temperatures(generate=0.3, train=0.1)  # built before, still answers


def test_the_temperature_table_takes_it_and_its_overrides(estimate):
    assert DEFAULT_TEMPERATURES["estimate"] == Temperatures(generate=0.3, train=0.1)
    assert TemperatureTable().root["estimate"] == DEFAULT_TEMPERATURES["estimate"]
    changed = TemperatureTable.model_validate({"ESTIMATE": {"generate": 0.5}})
    assert (changed["estimate"].generate, changed["estimate"].train) == (0.5, 0.1)
    assert changed["math"] == DEFAULT_TEMPERATURES["math"]
    with pytest.raises(ValueError, match="did you mean 'estimate'.*choose one of .*estimate"):
        TemperatureTable.model_validate({"estimat": {"generate": 0.5}})


def test_configs_and_gate_criteria_take_it(estimate):
    assert build_config(DatasetSpec, "dataset", source="arith", category="estimate").category == "estimate"
    gate = build_config(Gate, "gates", name="fermi", criteria=[{"metric": "accuracy", "category": "estimate", "threshold": 0.5}])
    assert gate.criteria[0].label() == "ESTIMATE accuracy >= 0.5"
    with pytest.raises(ConfigError, match="category: unknown category 'estimat' .did you mean 'estimate'.*or all"):
        build_config(Gate, "gates", name="x", criteria=[{"metric": "accuracy", "category": "estimat", "threshold": 0.5}])
    assert "estimate" not in DEFAULT_SOURCES
    with pytest.raises(ConfigError, match="category estimate has no built-in dataset; pass --dataset prompts:PATH"):
        default_source("estimate")


def test_its_extractor_and_judge_score_answers_and_the_gates_read_them(estimate):
    assert get_category("estimate").extract("hmm, about 1000.0 metres") == "1000"
    problem = Problem(id="piano-tuners", category="estimate", prompt="How many piano tuners in Chicago?", reference="100")
    with Judge() as judge:
        answers = judge.answers(problem, ["About 95 tuners.", "roughly 95", "around 150", None, "no idea"])
        assert [(a.key, a.correct) for a in answers] == [("95", True), ("95", True), ("150", False), (None, False),
                                                          (None, False)]
        assert judge.answer(problem, "about 104").correct is True
        values = per_prompt(score_responses(problem, ["about 95", "about 95", "about 150", "about 95"], judge))
    assert values["consistency"] == 0.75 and values["accuracy"] == 0.75 and values["maj_accuracy"] == 1.0
    board = scoreboard([("estimate", values)])
    gate = Gate(name="fermi", criteria=[{"metric": "accuracy", "category": "estimate", "threshold": 0.7}])
    assert [r.status for r in evaluate_gates(board, [gate])] == ["pass"]


def test_its_problems_need_what_it_requires_and_prompt_files_use_its_prompt(estimate, tmp_path):
    with pytest.raises(ArcrayError, match="estimate problem 'e1' has no reference; an estimate problem needs reference"):
        Problem(id="e1", category="estimate", prompt="?")
    path = tmp_path / "fermi.jsonl"
    path.write_text(json.dumps({"id": "e1", "prompt": "Piano tuners in Chicago?", "reference": 100,
                                "category": "estimate"}) + "\n")
    [problem] = load_problems(DatasetSpec(source=f"prompts:{path}", category="estimate"))
    assert problem.prompt == [{"role": "user", "content": "Piano tuners in Chicago?\n\nGive your best estimate: 'about N'."}]
    assert problem.reference == "100" and problem.question == "Piano tuners in Chicago?"


def test_a_plain_text_category_is_a_name_and_its_temperatures():
    register_category(CategorySpec(name="translation", temperatures=Temperatures(generate=0.0, train=0.0)))
    try:
        problem = Problem(id="t1", category="translation", prompt="'Hello' in French?", reference="Bonjour")
        with Judge() as judge:
            assert judge.answer(problem, "Sure.\nAnswer: bonjour!").correct is True
            assert judge.answer(problem, "Answer: salut").correct is False
        assert TemperatureTable()["translation"].generate == 0.0
    finally:
        REGISTRY.pop("translation")
    with pytest.raises(ConfigError, match="unknown category 'translation'"):
        parse_category("translation")


def test_unknown_names_get_did_you_mean_and_the_choices():
    with pytest.raises(ConfigError, match=r"unknown category 'maht' \(did you mean 'math'\?\); choose one of math, code, "
                                          r"reasoning, creativity, knowledge, instruction$"):
        get_category("maht")
    with pytest.raises(ConfigError, match="dataset: category: unknown category 'cod' .did you mean 'code'"):
        build_config(DatasetSpec, "dataset", source="humaneval", category="cod")


def test_a_name_is_registered_once(estimate, estimate_module):
    first = REGISTRY["estimate"]
    with pytest.raises(ConfigError, match="category 'estimate' is already registered; pick another name"):
        import_file(estimate_module, "estimate_category_again")
    assert REGISTRY["estimate"] is first
    with pytest.raises(ConfigError, match="category 'math' is already registered"):
        register_category(CategorySpec(name="math", temperatures=Temperatures(generate=1.0, train=1.0)))
    assert get_category("math").default_source == "arith"  # the built-in is untouched


def test_names_must_be_usable():
    with pytest.raises(ConfigError, match="'all' is reserved"):
        CategorySpec(name="all", temperatures=Temperatures(generate=0.0, train=0.0))
    with pytest.raises(ConfigError, match="lower-case letters"):
        CategorySpec(name="Word Problems", temperatures=Temperatures(generate=0.0, train=0.0))
    with pytest.raises(ConfigError, match="give temperatures=Temperatures"):
        CategorySpec(name="poetry", temperatures={"generate": 0.7, "train": 0.3})
    with pytest.raises(ConfigError, match="register a CategorySpec"):
        register_category({"name": "poetry"})
    assert "poetry" not in CATEGORIES


def test_the_built_ins_are_the_plans():
    assert tuple(CATEGORIES) == ("math", "code", "reasoning", "creativity", "knowledge", "instruction")
    assert dict(DEFAULT_SOURCES) == {"math": "arith", "code": "humaneval"}
    assert [name for name in CATEGORIES if get_category(name).needs_sandbox] == ["code"]
    assert get_category("code").requires == ("tests", "entry_point")

"""Configs, prompts and the backend registry: checked up front, with errors that name the fix."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import BaseModel, ValidationError

from arcray.errors import ConfigError
from arcray.llm import (
    AnyBackendConfig,
    Backend,
    BackendConfig,
    GeminiConfig,
    HFConfig,
    SamplingParams,
    get_backend,
    parse_backend_config,
    register_backend,
)
from arcray.llm.types import Completion, normalize_prompt
from arcray.llm.usage import Usage


def test_unknown_backend_suggests_the_nearest():
    with pytest.raises(ConfigError, match=r"unknown backend 'gemni' \(did you mean 'gemini'\?\)"):
        get_backend("gemni")


def test_unknown_keys_are_refused_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown key 'timeout' \(did you mean 'timeout_s'\?\)"):
        parse_backend_config({"backend": "gemini", "timeout": 3})
    with pytest.raises(ConfigError, match=r"'retry.max_attempt' \(did you mean 'max_attempts'\?\)"):
        parse_backend_config({"backend": "gemini", "retry": {"max_attempt": 3}})
    with pytest.raises(ConfigError, match="rate_limit.requests_per_minute"):
        parse_backend_config({"backend": "gemini", "rate_limit": {"requests_per_minute": 0}})
    with pytest.raises(ConfigError, match="'backend' key"):
        parse_backend_config({"model": "x"})


def test_a_stage_config_switches_backend_by_config_alone():
    class Stage(BaseModel):
        teacher: AnyBackendConfig

    gemini = Stage.model_validate({"teacher": {"backend": "gemini", "model": "gemini-2.5-pro"}})
    local = Stage.model_validate({"teacher": {"backend": "hf", "model": "org/model", "load_in_4bit": True}})
    assert isinstance(gemini.teacher, GeminiConfig) and isinstance(local.teacher, HFConfig)
    dumped = local.model_dump()["teacher"]
    assert dumped["load_in_4bit"] is True and dumped["batch_size"] == 16  # every field, for the run directory
    assert Stage.model_validate(local.model_dump()).teacher == local.teacher
    with pytest.raises(ValidationError, match="did you mean 'hf'"):
        Stage.model_validate({"teacher": {"backend": "hff", "model": "x"}})


def test_sampling_params_are_validated():
    assert SamplingParams(stop="###").stop == ("###",)
    assert SamplingParams().greedy and not SamplingParams(temperature=0.2).greedy
    for bad in ({"n": 0}, {"temperature": -1}, {"max_new_tokens": 0}, {"stop": [""]}, {"temprature": 1}):
        with pytest.raises(ValidationError):
            SamplingParams(**bad)


def test_prompts_are_text_or_chat_messages():
    assert normalize_prompt("hi") == "hi"
    assert normalize_prompt([{"role": "user", "content": "hi"}]) == ({"role": "user", "content": "hi"},)
    with pytest.raises(ConfigError, match="role 'bot'; use one of system, user, assistant"):
        normalize_prompt([{"role": "bot", "content": "hi"}])
    with pytest.raises(ConfigError, match="exactly the keys"):
        normalize_prompt([{"role": "user", "text": "hi"}])
    with pytest.raises(ConfigError, match="non-empty list"):
        normalize_prompt([])


class ShoutConfig(BackendConfig):
    backend: str = "shout"
    model: str = "upper"


class ShoutBackend(Backend):
    """A backend registered from outside the package: the registry is open."""

    name = "shout"

    def __init__(self, config: ShoutConfig, *, run_id: str | None = None) -> None:
        super().__init__(config)

    def _generate(self, prompts, params, first_sample):
        return [[Completion(text=str(prompt).upper()) for _ in range(params.n)] for prompt in prompts]


def test_register_a_backend():
    register_backend("shout", ShoutConfig, ShoutBackend)
    with get_backend("shout") as backend:
        assert backend.generate(["hi"], SamplingParams(n=2)) == [[Completion(text="HI")] * 2]
        assert backend.usage.completions == 2
    with pytest.raises(ConfigError, match="already registered"):
        register_backend("shout", ShoutConfig, "somewhere:else")


def test_usage_merges_across_actors():
    a, b = Usage(), Usage()
    a.add(Completion(text="x", prompt_tokens=3, completion_tokens=4))
    b.add(Completion.failure("no_text", "empty", prompt_tokens=2, attempts=2))
    b.add(Completion(text="y", prompt_tokens=100, cached=True))
    total = a.merge(b)
    assert (total.completions, total.failures, total.requests, total.cached) == (2, 1, 3, 1)
    assert total.prompt_tokens == 5 and total.total_tokens == 9
    assert Usage.from_dict(total.to_dict()).to_dict() == total.to_dict()


def test_importing_arcray_llm_loads_neither_torch_nor_ray_nor_the_sdk():
    code = (
        "import sys, arcray.llm; "
        "print(sorted(m for m in ('torch', 'ray', 'google.genai', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

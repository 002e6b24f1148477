"""Sampling to a grammar (SamplingParams.grammar) on the HF backend, with real models.

A random tiny Llama writes noise when free; under a grammar every answer must be in the language.
SmolLM2 under the arcdsl solver grammar must write programs the search can read back.
"""

from __future__ import annotations

import pytest

from arcray.solver.grammar import FOOTER, HEADER, read_program, solver_grammar
from arcray.errors import ConfigError
from arcray.llm import SamplingParams, get_backend

pytest.importorskip("llguidance")

YES_NO = 'start: "yes" | "no, " NUMBER\nNUMBER: /[1-9][0-9]?/\n'


def test_a_random_model_under_a_grammar_writes_only_the_language(tiny_backend):
    free = tiny_backend.generate(["hello"], SamplingParams(n=6, temperature=1.5, max_new_tokens=12, seed=0))[0]
    assert not all(c.text == "yes" or c.text.startswith("no, ") for c in free)  # noise, when free
    for seed in range(3):
        answers = tiny_backend.generate(["hello", "the quick brown fox"],
                                        SamplingParams(n=6, temperature=1.5, max_new_tokens=12, seed=seed, grammar=YES_NO))
        for row in answers:
            for c in row:
                assert c.ok and c.finish_reason == "stop", c
                assert c.text == "yes" or (c.text.startswith("no, ") and 1 <= int(c.text[4:]) <= 99), c.text


def test_greedy_and_sampled_answers_both_keep_to_it(tiny_backend):
    greedy = tiny_backend.generate(["hello"], SamplingParams(n=2, max_new_tokens=12, grammar=YES_NO))[0]
    assert greedy[0].text == greedy[1].text and (greedy[0].text == "yes" or greedy[0].text.startswith("no, "))


def test_a_grammar_that_does_not_compile_is_one_line_naming_it(tiny_backend):
    with pytest.raises(ConfigError, match="grammar does not compile"):
        tiny_backend.generate(["hello"], SamplingParams(max_new_tokens=4, grammar="start: (\n"))
    with pytest.raises(ValueError, match="do not go together"):
        SamplingParams(max_new_tokens=4, grammar=YES_NO, ignore_eos=True)


@pytest.fixture(scope="module")
def smollm2():
    backend = get_backend("hf", model="smollm2-135m", device="cpu", batch_size=8)
    yield backend
    backend.close()


def test_smollm2_under_the_solver_grammar_writes_programs_the_search_reads_back(smollm2):
    task = [{"role": "user", "content": "Example 1\nInput (2x2):\n12\n34\nOutput (2x2):\n21\n43\n\n"
             "Write solve(grid) for this task with arcdsl."}]
    answers = smollm2.generate([task, task], SamplingParams(n=4, temperature=1.0, max_new_tokens=160, seed=3,
                                                            grammar=solver_grammar(3)))
    texts = [c.text for row in answers for c in row]
    for c in (c for row in answers for c in row):
        assert c.ok and c.finish_reason == "stop" and c.completion_tokens <= 160, c  # 3 calls fit in 160 tokens
        assert c.text.startswith(HEADER) and c.text.endswith(FOOTER), c.text  # the forced opening is in the text
        assert 1 <= len(read_program(c.text)) <= 3, c.text
    assert len(set(texts)) > 1  # sampled, not one answer repeated


def test_the_evolution_loop_constrains_the_programmer_and_not_the_analyst(smollm2):
    from arcray.arc.sandbox import Sandbox
    from arcray.arc.tasks import load_tasks
    from arcray.civilization.config import EvolutionConfig
    from arcray.civilization.evolution import run_evolution

    [task] = load_tasks("arc1/train", ids=["67a3c6ac"])  # flip_lr
    config = EvolutionConfig(max_generations=1, population=3, use_analyst=True, grammar="arcdsl", temperature=1.0,
                             analyst_temperature=0.7, max_new_tokens=60, seed=1)
    with Sandbox() as sandbox:
        result = run_evolution(task, smollm2, sandbox, config)
    assert result.spec and not result.spec.startswith("```python")  # the Analyst's prose is free
    [generation] = result.generations
    assert len(generation) == 3
    for candidate in generation:
        assert candidate.completion.startswith(HEADER) and candidate.code is not None  # raw text kept, code read
        assert candidate.result is not None and candidate.result.train_total == len(task.train)


def test_backends_that_cannot_keep_to_a_grammar_say_so_before_running(fake_gemini):
    from arcray.pipelines.collect import CollectConfig

    with pytest.raises(ConfigError, match="gemini backend cannot"):
        CollectConfig.build(tasks="arc1/train", teacher={"backend": "gemini", "model": "gemini-2.5-flash"},
                            evolution={"grammar": "arcdsl"}, out="unused")
    backend = get_backend("gemini", model="gemini-2.5-flash")
    try:
        with pytest.raises(ConfigError, match="cannot keep its answers to a grammar"):
            backend.generate(["hi"], SamplingParams(grammar=YES_NO))
    finally:
        backend.close()

"""arcray's decode loop against transformers' generate(), on a tiny random Llama built in the tests.

Greedy answers must be the same token for token whichever way they are decoded; a row that has
ended must leave the batch (fewer rows in later forward passes), and sampling stays seeded.
"""

from __future__ import annotations

import pytest

from arcray.llm import SamplingParams, get_backend

PROMPTS = ["hello world", "the quick brown fox jumps over the lazy dog and then some more", "two", "a b c d"]


def texts(rows):
    return [[(c.text, c.finish_reason, c.completion_tokens) for c in row] for row in rows]


@pytest.fixture(scope="module")
def backends(tiny_llama):
    with get_backend("hf", model=str(tiny_llama), device="cpu") as retire, \
            get_backend("hf", model=str(tiny_llama), device="cpu", decode="generate") as generate:
        yield retire, generate


def stop_from(backend, prompt: str) -> str:
    [[full]] = backend.generate([prompt], SamplingParams(max_new_tokens=24))
    stop = full.text[len(full.text) // 3:][:2]
    assert stop.strip(), f"want a visible stop string from {full.text!r}"
    return stop


@pytest.mark.parametrize("n", [1, 3])
def test_greedy_answers_are_the_ones_generate_gives(backends, n):
    retire, generate = backends
    stop = stop_from(generate, PROMPTS[0])
    for params in (SamplingParams(n=n, temperature=0.0, max_new_tokens=16),
                   SamplingParams(n=n, temperature=0.0, max_new_tokens=16, stop=(stop,)),
                   SamplingParams(n=n, temperature=0.0, max_new_tokens=16, stop=(stop,), ignore_eos=True)):
        assert texts(retire.generate(PROMPTS, params)) == texts(generate.generate(PROMPTS, params))


def test_grammar_bound_answers_are_the_ones_generate_gives(backends):
    retire, generate = backends
    grammar = 'start: "say " WORD "!"\nWORD: /[a-z]{1,6}/'
    params = SamplingParams(temperature=0.0, max_new_tokens=12, grammar=grammar)
    answers = texts(retire.generate(PROMPTS, params))
    assert answers == texts(generate.generate(PROMPTS, params))
    assert all(text.startswith("say ") for [(text, _, _)] in answers)


def test_a_row_that_ends_leaves_the_batch(backends, monkeypatch):
    """Rows that hit a stop string early are dropped: later forward passes see fewer rows, and the
    answers are the ones decoded with every row kept to the end."""
    import arcray.llm.decode as decode

    retire, _ = backends
    prompts = [f"{word} {k}" for k in range(2) for word in PROMPTS]
    params = SamplingParams(temperature=0.0, max_new_tokens=24, stop=("e",))  # a letter most rows write, at different steps
    widths = []
    forward = retire.model.forward

    def counting(*args, **kwargs):
        widths.append(kwargs["input_ids"].shape[0])
        return forward(*args, **kwargs)

    monkeypatch.setattr(retire.model, "forward", counting)
    kept = texts(retire.generate(prompts, params))
    assert widths[0] == len(prompts) and min(widths) < len(prompts), widths
    assert sum(finish == "stop" for [(_, finish, _)] in kept) >= 2
    widths.clear()
    monkeypatch.setattr(decode, "RETIRE_SHARE", float("inf"))  # never compact: every row to the end
    assert texts(retire.generate(prompts, params)) == kept
    assert set(widths) == {len(prompts)}


def test_sampling_is_seeded_and_draws_n_samples(backends):
    retire, _ = backends
    params = SamplingParams(n=6, temperature=0.9, top_p=0.9, max_new_tokens=10, seed=5)
    first = texts(retire.generate(PROMPTS, params))
    assert first == texts(retire.generate(PROMPTS, params))
    assert first != texts(retire.generate(PROMPTS, params.model_copy(update={"seed": 6})))
    assert all(len(set(row)) > 1 for row in first)

"""arcray's decode loop against transformers' generate(), on a tiny random Llama built in the tests.

Greedy answers must be the same token for token whichever way they are decoded; a row that has
ended must leave the batch (fewer rows in later forward passes), and sampling stays seeded, with each
seeded sample the same whichever prompts share its batch.
"""

from __future__ import annotations

import functools

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

    @functools.wraps(forward)  # keeps forward's signature: the loop reads its cache keyword from it
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


def test_a_seeded_sample_is_the_same_in_any_batch(backends, monkeypatch):
    """Each row draws from its own stream (seed, prompt, sample index): a prompt asked alone, in
    another order, in other chunks, or as samples 2.. of a later call gets the samples it gets in
    one call with every prompt."""
    retire, _ = backends
    params = SamplingParams(n=4, temperature=1.0, max_new_tokens=12, seed=11, stop=("e",))
    together = texts(retire.generate(PROMPTS, params))
    assert [texts(retire.generate([p], params))[0] for p in PROMPTS] == together
    assert texts(retire.generate(PROMPTS[::-1], params))[::-1] == together
    monkeypatch.setattr(retire, "config", retire.config.model_copy(update={"batch_size": 3}))  # other chunks
    assert texts(retire.generate(PROMPTS, params)) == together
    monkeypatch.undo()
    later = texts(retire.generate(PROMPTS, params.model_copy(update={"n": 2}), first_sample=2))
    assert later == [row[2:] for row in together]
    assert all(len(set(row)) > 1 for row in together)  # drawn, not greedy


def test_row_streams_depend_on_seed_prompt_and_sample_only():
    from arcray.llm.decode import row_streams

    def first(streams):
        return [s.random() for s in streams]

    both = first(row_streams(3, [[1, 2], [5]], range(4, 6)))
    assert both == first(row_streams(3, [[1, 2]], [4, 5])) + first(row_streams(3, [[5]], [4, 5]))
    assert len(set(both)) == 4
    assert first(row_streams(4, [[1, 2]], [4])) != both[:1]

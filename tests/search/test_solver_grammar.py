"""The solver grammar accepts every program the search writes and refuses what would not run.

Checked with llguidance itself (the engine that enforces the grammar while sampling) on SmolLM2's
tokenizer: an answer is in the language when the matcher takes all its tokens and accepts.
"""

from __future__ import annotations

import pytest
from test_search_emit import SAMPLES

from arcray.solver.grammar import FOOTER, HEADER, read_program, solver_grammar
from arcray.solver.emit import emit_solver
from arcray.solver.primitives import PRIMITIVES
from arcray.solver.program import Step

llguidance = pytest.importorskip("llguidance")


@pytest.fixture(scope="module")
def accepts():
    import llguidance.hf

    from arcray.llm.hf import resolve_model
    from arcray.llm.loading import load_tokenizer

    tokenizer = load_tokenizer(resolve_model("smollm2-135m"), padding_side="left")
    vocabulary = llguidance.hf.from_tokenizer(tokenizer)
    grammar = llguidance.LLMatcher.grammar_from_lark(solver_grammar())

    def check(answer: str) -> bool:
        tokens = tokenizer(answer, add_special_tokens=False)["input_ids"]
        matcher = llguidance.LLMatcher(vocabulary, grammar)
        assert not matcher.is_error(), matcher.get_error()
        return matcher.validate_tokens(tokens) == len(tokens) and matcher.consume_tokens(tokens) and matcher.is_accepting()

    return check


def answer(program: tuple[Step, ...]) -> str:
    """The training answer's form: the library solver (no docstring) in a python fence."""
    return f"```python\n{emit_solver(program, spec='').strip()}\n```"


def test_every_primitive_as_the_search_calls_it_is_in_the_language(accepts):
    assert set(SAMPLES) == set(PRIMITIVES)  # a new primitive needs a sample here, and then is checked
    for name, (_, params) in SAMPLES.items():
        assert accepts(answer((Step(name, params),))), name


def test_programs_of_several_steps_and_their_parameters(accepts):
    program = (Step("crop_to_content"), Step("recolour", ({1: 2, 3: 4},)), Step("recolour_by_rank", ({0: 2, -1: 3}, None, True)),
               Step("gravity", ("down",)), Step("continue_pattern", (2, 1.5)))
    assert accepts(answer(program))
    assert accepts(answer((Step("recolour", ({},)),)))


@pytest.mark.parametrize("line", [
    "upscale(grid, 2)",  # a parameter short
    "mirror_quad(grid, 1, False)",  # one too many (what the student wrote most)
    "arcs(grid)",  # no such function
    "gravity(grid, 'sideways')",  # a word the Literal does not have
    "draw_border(grid, 12)",  # not a colour
    "keep_colour(grid, colour=3)",  # keywords are not in the language
    "np.rot90(grid)",  # numpy is not arcdsl
])
def test_calls_that_would_not_run_are_refused(accepts, line):
    assert not accepts(f"{HEADER}    grid = {line}\n{FOOTER}")


def test_only_the_solver_block_is_in_the_language(accepts):
    one = answer((Step("flip_lr"),))
    assert accepts(one)
    assert not accepts(one + "\n\nThis flips the grid.")  # no prose after the block
    assert not accepts(f"{HEADER}{FOOTER}")  # at least one step
    six = answer(tuple(Step("flip_lr") for _ in range(6)))
    assert not accepts(six) and accepts(answer(tuple(Step("flip_lr") for _ in range(5))))


def test_what_the_language_accepts_the_search_can_read_back():
    program = (Step("tile", (2, 3)), Step("halo", (1, 2, "corner")))
    assert read_program(answer(program)) == program

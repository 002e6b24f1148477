"""Breadth-first search over compositions of DSL primitives, for a program that maps every train input to its output.

A state is the tuple of intermediate grids, one per train input followed by one per test input
(test inputs are known in ARC; only their outputs are hidden, and the search never sees those).
States reached twice are expanded once. Parameters are inferred from the train pairs; the last
level is pruned by output shape; any state one colour map away from the outputs closes the search.

The budget is counted, not timed: ``max_expansions`` candidate programs (one step applied to one
state) are evaluated at most, in a fixed order, so the same task and settings give the same
programs on a quiet machine and a busy one. ``max_seconds`` is only a wall-clock safety cap; a
search it stops says so (``budget_hit == "wall"``), because its result then depends on the clock.

Asked for more than one program, the search goes on through the level of its first find (for at
most a quarter of its expansions) for other programs that fit; asked for explored ones, it keeps a
few programs that ran on every input without fitting, for hindsight relabelling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import numpy as np

from arcray.solver.infer import colour_map
from arcray.solver.primitives import PRIMITIVES, Primitive
from arcray.solver.program import Program, Step

MAX_SIDE = 30
# What a primitive raises when it does not apply to a grid (see arcdsl).
NOT_APPLICABLE = (ValueError, IndexError, KeyError, ZeroDivisionError)

State = tuple[np.ndarray, ...]
BudgetHit = Literal["expansions", "wall"]


@dataclass(frozen=True)
class SearchOutcome:
    """The programs found (shortest first; the first is ``program``), why the search stopped, what it
    cost, which budget stopped it early (None: it ended on its own), and programs that ran on every
    input without fitting (``explored``)."""

    programs: tuple[Program, ...]
    reason: str
    primitive_calls: int
    elapsed_s: float
    explored: tuple[Program, ...] = ()
    expansions: int = 0
    budget_hit: BudgetHit | None = None

    @property
    def program(self) -> Program | None:
        return self.programs[0] if self.programs else None


class _Budget(Exception):
    """Raised inside the search when a budget runs out; its argument says which."""


def search(
    train_inputs: Sequence[np.ndarray],
    train_outputs: Sequence[np.ndarray],
    *,
    test_inputs: Sequence[np.ndarray] = (),
    max_depth: int = 3,
    max_expansions: int = 10_000,
    max_seconds: float | None = None,
    primitives: Sequence[Primitive] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    max_programs: int = 1,
    explored: int = 0,
) -> SearchOutcome:
    """Return the shortest program (up to `max_depth` steps plus a final colour map) that fits every train pair,
    and up to ``max_programs - 1`` other fitting ones; plus up to ``explored`` programs that ran but did not fit.

    At most ``max_expansions`` candidates are evaluated (after the first find, at most a quarter
    as many more). ``max_seconds`` on ``clock`` is a safety cap only: when it stops the search,
    ``budget_hit`` is ``"wall"`` and the outcome depends on the machine's load.
    """
    started = clock()
    run = _Search(
        [np.asarray(grid) for grid in train_inputs],
        [np.asarray(grid) for grid in train_outputs],
        [np.asarray(grid) for grid in test_inputs],
        [p for p in (primitives or PRIMITIVES.values()) if p.expand],
        max_expansions,
        None if max_seconds is None else started + max_seconds,
        clock,
        max_programs=max_programs,
        keep_explored=explored,
    )
    hit: BudgetHit | None = None
    try:
        reason = run.breadth_first(max_depth)
    except _Budget as budget:
        hit = budget.args[0]
        if run.found:
            reason = "found"
        elif hit == "wall":
            reason = f"the wall-clock safety cap of {max_seconds:g} s was hit after {run.expansions} expansions"
        else:
            reason = f"the budget of {max_expansions} expansions ran out"
    return SearchOutcome(tuple(run.found), reason, run.calls, clock() - started, run.pick_explored(),
                         expansions=run.expansions, budget_hit=hit)


class _Search:
    def __init__(
        self,
        inputs: list[np.ndarray],
        outputs: list[np.ndarray],
        tests: list[np.ndarray],
        primitives: list[Primitive],
        max_expansions: int,
        deadline: float | None,
        clock: Callable[[], float],
        *,
        max_programs: int = 1,
        keep_explored: int = 0,
    ) -> None:
        self.outputs = outputs
        self.n_train = len(inputs)
        self.start: State = tuple(inputs + tests)
        self.primitives = primitives
        self.expansion_limit, self.extra = max_expansions, max_expansions // 4
        self.deadline = deadline
        self.clock = clock
        self.calls = 0
        self.expansions = 0
        self.cache: dict[tuple, np.ndarray | None] = {}
        self.max_programs, self.keep_explored = max_programs, keep_explored
        self.found: list[Program] = []
        self.explored: dict[str, tuple[float, Program]] = {}  # the closest to the outputs, by primitive, for variety

    def breadth_first(self, max_depth: int) -> str:
        closing = self.close(self.start, ())
        if closing is not None:
            self.found.append(closing)
            return "found"
        seen = {_key(self.start)}
        frontier: list[tuple[State, Program]] = [(self.start, ())]
        for depth in range(1, max_depth + 1):
            last = depth == max_depth
            children: list[tuple[float, State, Program]] = []
            for state, program in frontier:
                for primitive in self.primitives:
                    if last and not self.may_reach_output_shapes(primitive, state):
                        continue
                    for params in primitive.infer(state[: self.n_train], self.outputs):
                        step = Step(primitive.name, params)
                        child = self.apply(step, state)
                        if child is None or (key := _key(child)) in seen:
                            continue
                        seen.add(key)
                        found = self.close(child, program + (step,))
                        if found is not None:
                            if self.note_found(found):
                                return "found"
                            continue
                        closeness = self.closeness(child) if not last or self.keep_explored else 0.0
                        if self.keep_explored and depth < 3:
                            self.note_explored(child, program + (step,), closeness)
                        if not last:
                            children.append((closeness, child, program + (step,)))
            if self.found:
                return "found"  # the level of the first find is done: nothing longer is looked at
            children.sort(key=lambda item: -item[0])
            frontier = [(state, program) for _, state, program in children]
        return f"no program of up to {max_depth} steps fits every train pair"

    def note_found(self, program: Program) -> bool:
        """Keep a fitting program; True when the search should stop."""
        if not self.found:  # the rest of the level, briefly
            self.expansion_limit = min(self.expansion_limit, self.expansions + self.extra)
        self.found.append(program)
        return len(self.found) >= self.max_programs

    def note_explored(self, state: State, program: Program, closeness: float) -> None:
        """Keep a program that ran on every input, when its grids all differ from the inputs: per last
        primitive, the one whose grids come closest to the outputs (near misses, as SOAR keeps)."""
        name = program[-1].name
        if name in self.explored and self.explored[name][0] >= closeness:
            return
        if all(g.shape != s.shape or not np.array_equal(g, s) for g, s in zip(state, self.start)):
            self.explored[name] = (closeness, program)

    def pick_explored(self) -> tuple[Program, ...]:
        """Up to ``keep_explored`` kept programs, closest first (ties in the order they were found)."""
        ranked = sorted(self.explored.values(), key=lambda item: -item[0])
        return tuple(program for _, program in ranked[: self.keep_explored])

    def apply(self, step: Step, state: State) -> State | None:
        if self.expansions >= self.expansion_limit:
            raise _Budget("expansions")
        self.expansions += 1
        function = PRIMITIVES[step.name].function
        grids = []
        for grid in state:
            if self.deadline is not None and self.clock() > self.deadline:
                raise _Budget("wall")
            key = (step.name, repr(step.params), grid.shape, grid.tobytes())
            if key not in self.cache:
                self.calls += 1
                try:
                    result = np.asarray(function(grid, *step.params))
                except NOT_APPLICABLE:
                    result = None
                self.cache[key] = result if result is not None and _is_grid(result) else None
            if self.cache[key] is None:
                return None
            grids.append(self.cache[key])
        return tuple(grids)

    def close(self, state: State, program: Program) -> Program | None:
        train, tests = state[: self.n_train], state[self.n_train :]
        if all(g.shape == o.shape and np.array_equal(g, o) for g, o in zip(train, self.outputs)):
            return program
        mapping = colour_map(train, self.outputs)
        # A final colour map must have seen every colour the test grids hold at this point.
        if mapping and _colours(tests) <= _colours(train):
            return program + (Step("recolour", (mapping,)),)
        return None

    def may_reach_output_shapes(self, primitive: Primitive, state: State) -> bool:
        if primitive.shape == "same":
            return all(g.shape == o.shape for g, o in zip(state, self.outputs))
        if primitive.shape == "transposed":
            return all(g.shape[::-1] == o.shape for g, o in zip(state, self.outputs))
        return True

    def closeness(self, state: State) -> float:
        score = 0.0
        for grid, output in zip(state, self.outputs):
            if grid.shape == output.shape:
                score += 1.0 + float((grid == output).mean())
        return score


def _key(state: State) -> tuple:
    return tuple((grid.shape, grid.tobytes()) for grid in state)


def _colours(grids: Sequence[np.ndarray]) -> set[int]:
    return set().union(*(np.unique(grid).tolist() for grid in grids))


def _is_grid(result: np.ndarray) -> bool:
    return (
        result.ndim == 2
        and 0 < result.shape[0] <= MAX_SIDE
        and 0 < result.shape[1] <= MAX_SIDE
        and result.dtype.kind in "iu"
        and 0 <= result.min()
        and result.max() <= 9
    )

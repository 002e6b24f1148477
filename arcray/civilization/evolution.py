"""The evolution loop: Analyst → Programmer (a population) → Refiner, generation after generation.

Generation 1 is the Programmer's population; each later generation refines the surviving
candidates with concrete per-pair feedback, and the best ``population`` of parents and children
survive (elitism). The loop stops at the target fitness or after ``max_generations``. Every
candidate of every generation is kept in the result, with its code, fitness and failures.
A teacher failure (retries exhausted, a blocked answer) is recorded, never raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from arcray.arc.attempt import ENDPOINT, MAX_CODE_CHARS, TEACHER, Attempt, CandidateRecord, stored_answer
from arcray.arc.fitness import FitnessResult, evaluate_solver
from arcray.arc.render import RenderConfig, extract_code
from arcray.arc.sandbox import Sandbox
from arcray.solver.grammar import solver_grammar
from arcray.arc.tasks import Task
from arcray.civilization import prompts
from arcray.civilization.config import EvolutionConfig
from arcray.llm.backend import Backend
from arcray.llm.retry import ENDPOINT_KINDS
from arcray.llm.types import Completion, SamplingParams
from arcray.llm.usage import Usage


@dataclass
class Candidate:
    """One solver the teacher wrote, and how it did."""

    generation: int
    origin: str  # "programmer" or "refiner"
    code: str | None
    result: FitnessResult | None = None
    parent: int | None = None  # index of the refined candidate in the previous generation's survivors
    error: str | None = None  # the teacher's failure, when no text came back
    completion: str | None = None  # the model's raw text (cut to STORED_ANSWER_CHARS)
    completion_chars: int | None = None  # its full length, when it was cut
    refused: str | None = None  # why the code found in the answer was not run (too long)

    @property
    def fitness(self) -> float:
        return self.result.fitness if self.result else 0.0

    @property
    def train_correct(self) -> int:
        return self.result.train_correct if self.result else 0

    @property
    def test_correct(self) -> int:
        return self.result.test_correct if self.result else 0

    def to_record(self) -> CandidateRecord:
        return CandidateRecord(
            generation=self.generation, origin=self.origin, parent=self.parent, code=self.code,
            completion=self.completion, completion_chars=self.completion_chars, fitness=self.fitness,
            train_correct=self.train_correct, test_correct=self.test_correct,
            runnable_share=round(self.result.runnable_share, 4) if self.result else 0.0,
            train_runnable=bool(self.result) and self.result.train_runnable,
            train_sized=bool(self.result) and self.result.train_sized,
            test_outputs=self.result.test_outputs() if self.result else [],
            failures=[e.feedback() for e in self.result.examples if not e.correct] if self.result else
            [self.refused] if self.refused else [],
            error=self.error,
        )


@dataclass
class EvolutionResult:
    """Everything one task's evolution produced."""

    task_id: str
    spec: str = ""
    generations: list[list[Candidate]] = field(default_factory=list)
    best: Candidate | None = None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None  # why no usable solver came back (teacher failures)
    warnings: list[str] = field(default_factory=list)  # failures the loop worked around
    wall_s: float = 0.0

    @property
    def candidates(self) -> list[Candidate]:
        return [c for generation in self.generations for c in generation]

    def to_record(self, price=None) -> Attempt:
        """One line of ``attempts.jsonl``."""
        best = self.best
        result = best.result if best else None
        return Attempt(
            task_id=self.task_id,
            fitness=best.fitness if best else 0.0,
            train_correct=best.train_correct if best else 0,
            train_total=result.train_total if result else None,
            test_correct=best.test_correct if best else 0,
            test_total=result.test_total if result else None,
            analyst_spec=self.spec,
            solver_code=best.code if best else None,
            test_outputs=result.test_outputs() if result else [],
            runnable_share=_runnable_share(self.candidates),
            generations=[[c.to_record() for c in generation] for generation in self.generations],
            usage=self.usage.to_dict(price),
            error=self.error,
            failure=(ENDPOINT if self.error and self.error.startswith(ENDPOINT_ERRORS) else TEACHER if self.error else None),
            warnings=self.warnings,
            wall_s=round(self.wall_s, 3),
        )


ENDPOINT_ERRORS = tuple(f"teacher: {kind}:" for kind in ENDPOINT_KINDS)  # out.error of a task no call could reach


def _runnable_share(candidates: list[Candidate]) -> float:
    """Share of generated programs that ran and returned a grid on every input."""
    written = [c for c in candidates if c.error is None]
    if not written:
        return 0.0
    return round(sum(bool(c.result) and c.result.runnable_share == 1.0 for c in written) / len(written), 4)


def run_evolution(
    task: Task,
    backend: Backend,
    sandbox: Sandbox,
    config: EvolutionConfig | None = None,
    render: RenderConfig | None = None,
) -> EvolutionResult:
    """Evolve solvers for ``task`` with ``backend`` as Analyst, Programmer and Refiner."""
    config = config or EvolutionConfig()
    render = render or RenderConfig()
    started = time.perf_counter()
    out = EvolutionResult(task_id=task.id)
    rank = _ranking(config)

    grammar = solver_grammar(config.grammar_steps) if config.grammar == "arcdsl" else None

    def sample(messages_list, n: int, temperature: float, generation: int) -> list[list[Completion]]:
        seed = None if config.seed is None else config.seed + generation
        params = SamplingParams(n=n, temperature=temperature, max_new_tokens=config.max_new_tokens, seed=seed,
                                stop=config.stop, grammar=grammar if generation else None)  # the Analyst writes prose
        completions = backend.generate(messages_list, params)
        for group in completions:
            out.usage.add_all(group)
        return completions

    def candidate(completion: Completion, generation: int, origin: str, parent: int | None) -> Candidate:
        if not completion.ok:
            return Candidate(generation, origin, None, parent=parent, error=f"{completion.error_kind}: {completion.error}")
        code = extract_code(completion.text)  # linear in the answer's length (arcray.fences)
        stored, full_length = stored_answer(completion.text)
        made = Candidate(generation, origin, code, parent=parent, completion=stored, completion_chars=full_length)
        if code is not None and len(code) > MAX_CODE_CHARS:
            made.code, made.refused = None, f"the solver is {len(code)} characters; at most {MAX_CODE_CHARS} are run or kept"
        elif code is not None:
            made.result = evaluate_solver(code, task, sandbox)
        return made

    if config.use_analyst:
        [[answer]] = sample([prompts.analyst_prompt(task, render)], 1, config.analyst_temperature, 0)
        out.spec = answer.text.strip() if answer.ok else ""
        if not answer.ok:  # carry on in direct mode for this task
            out.warnings.append(f"analyst: {answer.error_kind}: {answer.error}")

    [answers] = sample([prompts.programmer_prompt(task, out.spec, render)], config.population, config.temperature, 1)
    generation = [candidate(a, 1, "programmer", None) for a in answers]
    out.generations.append(generation)
    survivors = sorted(generation, key=rank, reverse=True)[: config.population]
    target = config.target_fitness

    for number in range(2, config.max_generations + 1):
        if _reached(survivors[0], target, config) or _teacher_unreachable(out):
            break
        parents = [c for c in survivors if c.code is not None] or survivors
        messages = [
            prompts.refiner_prompt(task, out.spec, p.code, p.result, render, grids=config.feedback_grids)
            if p.code is not None
            else prompts.programmer_prompt(task, out.spec, render)
            for p in parents
        ]
        answers = [group[0] for group in sample(messages, 1, config.temperature, number)]
        children = [
            candidate(a, number, "refiner" if p.code is not None else "programmer", i)
            for i, (p, a) in enumerate(zip(parents, answers))
        ]
        out.generations.append(children)
        survivors = sorted(survivors + children, key=rank, reverse=True)[: config.population]

    out.best = survivors[0] if survivors and survivors[0].code is not None else None
    errors = [c.error for c in out.candidates if c.error]
    if out.best is None and errors:
        out.error = f"teacher: {errors[-1]}"  # nothing usable came back: say why
    out.wall_s = time.perf_counter() - started
    return out


def _ranking(config: EvolutionConfig):
    if config.select_by == "train":
        return lambda c: (c.train_correct, c.result.runnable_share if c.result else -1.0, -len(c.code or "x" * 10**6))
    return lambda c: (c.fitness, c.result.runnable_share if c.result else -1.0, -len(c.code or "x" * 10**6))


def _reached(best: Candidate, target: float | None, config: EvolutionConfig) -> bool:
    if best.result is None:
        return False
    if target is not None:
        return best.fitness >= target
    if config.select_by == "train":
        return best.train_correct == best.result.train_total
    return best.fitness >= best.result.max_fitness


def _teacher_unreachable(out: EvolutionResult) -> bool:
    """Stop early when the last generation's every answer was a non-retryable client error, or the
    endpoint could not serve it (unreachable, a quota's wait past the cap): more calls would fare no better."""
    last = out.generations[-1]
    stops = ("client_error", *ENDPOINT_KINDS)
    return bool(last) and all(c.error is not None and c.error.startswith(stops) for c in last)

"""Self-consistency as a filter chain: n responses → extract (judge) → majority vote → metrics.

:func:`prompt_record` is what a sampling run writes per prompt; summaries, failures and
generated training data are all read back from these records.
"""

from __future__ import annotations

from typing import Any, Sequence

from arcray.consistency import metrics
from arcray.consistency.judge import Judge
from arcray.consistency.problems import Problem
from arcray.consistency.records import AnswerRecord, Response, Sample
from arcray.consistency.vote import majority_vote


def score_responses(problem: Problem, responses: Sequence[str | None], judge: Judge) -> metrics.Scored:
    """Run the chain on one prompt's responses (None stands for a failed completion)."""
    answers = judge.answers(problem, list(responses))
    return metrics.Scored(responses=list(responses), answers=answers, vote=majority_vote(answers))


def prompt_record(problem: Problem, completions: Sequence[Any], judge: Judge, *, sampling: dict[str, Any]) -> Sample:
    """The samples.jsonl record of one prompt: its problem, every response and answer, the vote, the metrics.

    ``completions`` are :class:`arcray.llm.Completion` objects (or plain strings, in tests).
    """
    texts = [_text(c) for c in completions]
    scored = score_responses(problem, texts, judge)
    return Sample(
        id=problem.id,
        category=problem.category,
        sampling=sampling,
        responses=[_response(c) for c in completions],
        answers=[AnswerRecord(**a.to_dict()) for a in scored.answers],
        majority=scored.vote.majority,
        majority_votes=scored.vote.top_count,
        tie=scored.vote.tie,
        metrics=metrics.per_prompt(scored),
        problem=problem.to_record(),
    )


def _text(completion: Any) -> str | None:
    if isinstance(completion, str):
        return completion
    return completion.text if completion.ok else None


def _response(completion: Any) -> Response:
    if isinstance(completion, str):
        return Response(text=completion)
    return Response(text=completion.text, finish_reason=completion.finish_reason,
                    completion_tokens=completion.completion_tokens, error=completion.error)

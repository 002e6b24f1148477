"""What an ARC experiment's records say about its students, split by split (the figures docs/augment.md quotes).

    python scripts/arc_records.py runs/main/arc-distillation [--k 4,6,8]

For each held-out split (``split-*``) and student (``eval-*``): tasks solved (pass@2), tasks where any sampled
program is right (oracle: what a perfect ranking would reach), the mean number of distinct programs per task,
the share of programs that copy one of the exemplars the prompt listed, and what the first k samples of each
task would have solved. Per split, how many held-out tasks have their own teacher program among the listed
exemplars and in the whole pool, and how many the first listed program solves by itself (what copying it would
reach). The exemplars are listed as the run listed them (``render.exemplar_order``: by facts or by fit). Reads only
the run's records: nothing is sampled or trained.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from arcray.arc.attempt import attempts_from_json
from arcray.arc.exemplars import load_pool, program_steps, shown
from arcray.arc.facts import train_pairs
from arcray.arc.scoring import score_task, two_attempts
from arcray.arc.tasks import load_tasks
from arcray.jsonl import iter_jsonl
from arcray.report import markdown_table
from arcray.runtime.manifest import read_artifact
from arcray.solver.program import fit, parse_program, run_program


def _right(candidate, wanted) -> bool:
    outputs = candidate.test_outputs or []
    return len(outputs) >= len(wanted) and all(outputs[i] == w for i, w in enumerate(wanted))


def listed_for(pool, task, count: int, order: str) -> list[tuple[str, ...]]:
    """The exemplars the run's prompt listed for ``task``."""
    pairs = train_pairs(task)
    return shown(pool, task, count, order=order, fit=lambda steps: fit(steps, pairs))


def solves(steps: tuple[str, ...], task) -> bool:
    """Whether a listed program, run as it is, gets every test output."""
    try:
        program = parse_program([line.removeprefix("grid = ") for line in steps])
        return all(run_program(program, pair.input).tolist() == [list(r) for r in pair.output] for pair in task.test)
    except Exception:
        return False


def student_rows(split: Path, tasks: dict, pool, shown_count: int, ks: list[int], order: str) -> list[dict]:
    rows = []
    for folder in sorted(split.glob("eval-*")):
        attempts = attempts_from_json(iter_jsonl(folder / "attempts.jsonl"))
        row = {"split": split.name, "student": folder.name.removeprefix("eval-"), "tasks": len(attempts)}
        row["solved"] = sum(score_task(tasks[a.task_id], a, two_attempts(a, len(tasks[a.task_id].test))).solved
                            for a in attempts)
        row["oracle (any program right)"] = sum(any(_right(c, [e.output for e in tasks[a.task_id].test]) for c in a.programs)
                                                for a in attempts)
        row["distinct programs per task"] = round(sum(len({c.code for c in a.programs}) for a in attempts) / len(attempts), 2)
        listed = {a.task_id: set(listed_for(pool, tasks[a.task_id], shown_count, order)) for a in attempts}
        programs = [(a.task_id, c) for a in attempts for c in a.programs]
        row["copies a listed exemplar"] = round(sum(program_steps(c.code or "") in listed[t] for t, c in programs)
                                                / max(len(programs), 1), 2)
        for k in ks:
            cut = [a.model_copy(update={"generations": [a.programs[:k]]}) for a in attempts]
            row[f"solved, first {k}"] = sum(score_task(tasks[a.task_id], a, two_attempts(a, len(tasks[a.task_id].test))).solved
                                            for a in cut)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an arc_distillation experiment folder (collect/, split-*/)")
    parser.add_argument("--k", default="4,6,8", help="sample counts to re-score from the first k samples")
    args = parser.parse_args()
    ks = [int(k) for k in args.k.split(",") if k]
    teacher = {a.task_id: a for a in attempts_from_json(iter_jsonl(args.run / "collect" / "attempts.jsonl"))}
    source = read_artifact(args.run / "collect", need=("collect",), role="collect").config["tasks"]
    tasks = {t.id: t for t in load_tasks(source)}
    students, listed = [], []
    for split in sorted(p for p in args.run.glob("split-*") if p.is_dir()):
        exports = read_artifact(split / "data", need=("prepare",), role="prepare").exports
        pool, count = load_pool(Path(exports["render"]["exemplar_pool"])), exports["render"]["exemplars"]
        order = exports["render"].get("exemplar_order", "facts")
        held_out = exports["held_out_ids"]
        evaluated = sorted({a.task_id for folder in split.glob("eval-*")
                            for a in attempts_from_json(iter_jsonl(folder / "attempts.jsonl"))})
        own = {t: program_steps(teacher[t].solver_code or "") for t in held_out if t in teacher}
        listed.append({"split": split.name, "held-out tasks": len(held_out),
                       "own program among the listed": sum(own[t] in listed_for(pool, tasks[t], count, order) for t in own),
                       "own program in the pool": sum(any(own[t] == e.steps for e in pool) for t in own),
                       "pool": len(pool), "evaluated": len(evaluated),
                       "first listed solves (evaluated)": sum(solves((listed_for(pool, tasks[t], count, order) or [()])[0],
                                                                     tasks[t]) for t in evaluated)})
        students += student_rows(split, tasks, pool, count, ks, order)
    print(markdown_table(students) + "\n\n" + markdown_table(listed))


if __name__ == "__main__":
    main()

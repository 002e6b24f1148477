"""Student evaluation on a real local Ray: k programs per task, two distinct attempts, raw completions kept."""

import json

from arc_teacher import ArcTeacher
from fake_gemini import RecordedRequest
from arcray.pipelines.evaluate import EvaluateConfig, run_evaluate

TASK = "67a3c6ac"  # mirror every row
MIRROR = "def solve(grid):\n    return [row[::-1] for row in grid]\n"
# Fits every train pair too, by remembering their inputs, and answers anything else unchanged.
MEMORY = ("SEEN = {seen!r}\n\n\ndef solve(grid):\n    if str(grid) in SEEN:\n        return [row[::-1] for row in grid]\n"
          "    return grid\n")
STUDENT = {"backend": "gemini", "model": "gemini-2.5-flash", "timeout_s": 5,
           "retry": {"initial_delay_s": 0.01, "max_delay_s": 0.05, "max_attempts": 2}}


class TwoPrograms(ArcTeacher):
    """Answers the Programmer with the right program and a memorising one, in turn."""

    def __init__(self) -> None:
        super().__init__([TASK])
        from arcray.arc.tasks import load_tasks

        task = load_tasks("arc1/train", ids=[TASK])[0]
        self.memory = MEMORY.format(seen={str(e.input) for e in task.train})
        self.calls = 0

    def __call__(self, request: RecordedRequest):
        self.calls += 1
        code = MIRROR if self.calls % 2 else self.memory
        return f"Attempt {self.calls}.\n```python\n{code}```\n"


def test_two_distinct_attempts_and_the_raw_completions(local_ray, fake_gemini, tmp_path):
    fake_gemini.handler = TwoPrograms()
    out = tmp_path / "eval"
    config = EvaluateConfig.build(student=STUDENT, tasks="arc1/train", ids=[TASK], out=str(out), cache={"enabled": False},
                                  evolution={"max_generations": 1, "population": 2, "use_analyst": False,
                                             "select_by": "train"})
    summary = run_evaluate(config, progress=False)

    [entry] = json.loads((out / "submission.json").read_text())[TASK]
    assert entry["attempt_1"] != entry["attempt_2"]  # two programs fit, and they disagree on the test input
    task_input = json.loads((out / "attempts.jsonl").read_text().splitlines()[0])
    [candidates] = task_input["generations"]
    assert sorted(c["completion"].splitlines()[0] for c in candidates) == ["Attempt 1.", "Attempt 2."]
    assert all(c["completion"].endswith("```\n") and c["code"] in c["completion"] for c in candidates)
    assert summary["solved_pass2"] == 1 and summary["distinct_second_attempts"] == 1
    assert summary["figures"]["solved"] == {"value": 1.0, "low": 1.0, "high": 1.0}
    assert summary["runnable_share"] == 1.0 and summary["tasks"][0]["train_fit"]
    assert summary["sized_share"] == 1.0 and all(c["train_sized"] for c in candidates)  # both fit: the right size too

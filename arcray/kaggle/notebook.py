"""The Kaggle notebook of a bundle, built with nbformat: parameters, an offline install, the prediction, a check.

Its first code cell is tagged ``parameters`` (papermill's convention), so the same notebook runs on Kaggle as
written and headless elsewhere with other paths (`papermill NOTEBOOK OUT -p CHALLENGES FILE -p OUT DIR`).
"""

from __future__ import annotations

from pathlib import Path

INTRO = """# arcray: ARC Prize submission, offline

Answers every test input of the competition's `arc-agi_test_challenges.json` with the student this dataset
carries, and writes `/kaggle/working/submission.json` (two attempts per test input). It needs no internet:
arcray installs from the dataset's `wheels/`, and the student loads from its `model/` (and `adapter/`).

The student's programs run in arcray's sandbox. Kaggle's containers usually refuse the user namespaces the
sandbox confines them with; the prediction then stops with one line, unless `ALLOW_UNCONFINED = True` below:
the programs then run as separate, resource-limited processes without the operating-system boundary
(no filesystem or network isolation). The container has no internet and is thrown away after the run;
decide whether that is enough for your own student's programs."""

PARAMETERS = """# Parameters (papermill: -p NAME VALUE)
BUNDLE = "/kaggle/input/{dataset}"
CHALLENGES = "/kaggle/input/arc-prize-2025/arc-agi_test_challenges.json"
OUT = "/kaggle/working"
BUDGET_S = {budget_s!r}  # start no task after this many seconds (Kaggle stops the notebook at its limit)
LIMIT = None  # a test run first (plan step 4b.3): the evaluation file's challenges and LIMIT = 10
ALLOW_UNCONFINED = False  # see above: True runs the student's programs without the OS sandbox"""

INSTALL = """# Offline install: arcray and any wheel the image lacks, from the dataset, into a folder of this run
import glob, os, subprocess, sys

TARGET = os.path.join(OUT, ".arcray-packages")
wheels = sorted(glob.glob(os.path.join(BUNDLE, "wheels", "*.whl")))
subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet", "--target", TARGET, *wheels],
               check=True)
sys.path.insert(0, TARGET)
import arcray
print("arcray", arcray.__version__, "from", os.path.dirname(arcray.__file__))"""

PREDICT = """# Answer every test input; the student's settings are the ones its evaluation scored (bundle.json)
from arcray.kaggle.predict import predict

result = predict(bundle=BUNDLE, challenges=CHALLENGES, out=OUT, budget_s=BUDGET_S, allow_unconfined=ALLOW_UNCONFINED,
                 limit=LIMIT)
result"""

CHECK = """# The file Kaggle scores: every task, every test input, two attempts
import json

from arcray.arc.submission import load_submission

submission = load_submission(os.path.join(OUT, "submission.json"))
challenges = json.load(open(CHALLENGES))
if LIMIT is None:
    assert set(submission) == set(challenges), "a task is missing from the submission"
for task_id in submission:
    task = challenges[task_id]
    assert len(submission[task_id]) == len(task["test"]), task_id
print(f"submission.json: {len(submission)} tasks, {sum(len(v) for v in submission.values())} test inputs")"""


def write_notebook(path: Path, *, dataset: str, budget_s: float) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    parameters = new_code_cell(PARAMETERS.format(dataset=dataset, budget_s=float(budget_s)))
    parameters.metadata["tags"] = ["parameters"]
    notebook = new_notebook(cells=[new_markdown_cell(INTRO), parameters, new_code_cell(INSTALL), new_code_cell(PREDICT),
                                   new_code_cell(CHECK)],
                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                      "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook))
    return path

"""Bounded work and storage on any teacher answer, however long or hostile.

Extraction reads fenced blocks in one pass (arcray.fences) and parses plain code a bounded number
of times, so its cost is linear in the answer's length; an answer is stored cut to
STORED_ANSWER_CHARS with its full length recorded. The work is bounded by a CPU-time limit on the
test's own subprocess (generous: the quadratic extraction it replaces took 20-47 s on 100 KB and
over two minutes on 300 KB), never by a wall-clock assertion.
"""

import json
import os
import subprocess
import sys

from arcray.arc.attempt import STORED_ANSWER_CHARS

HOSTILE = {
    "backticks without a newline": "'`' * 300_000",
    "fence lines": "'```\\n' * 75_000",
    "plain code with unbalanced lines": "'def solve(grid):\\n' + '    x = (\\n' * 30_000",
    "blank lines before the code": "'\\n' * 300_000 + 'def solve(g):\\n    return g\\n'",
    "prose after the code": "'def solve(g):\\n    return g\\n' + 'prose that does not parse (\\n' * 10_000",
    "many code-looking lines that do not parse": "'x = 1\\n(\\n' * 40_000 + 'def solve(g): return g\\n'",
}
EXTRACT_ALL = '''
import resource, sys
resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
from arcray.arc.render import extract_code as solver_code
from arcray.consistency.categories.code import answer_key
from arcray.consistency.extract import defines_function
texts = [{texts}]
for text in texts:
    solver_code(text); answer_key(text); defines_function(text, "f")
print("done", len(texts))
'''


def test_extracting_code_from_hostile_answers_is_linear_work():
    code = EXTRACT_ALL.format(texts=", ".join(HOSTILE.values()))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]  # SIGXCPU (past 30 s of CPU) would end it otherwise
    assert done.stdout.strip() == f"done {len(HOSTILE)}"


def test_a_5_mb_answer_is_stored_cut_with_its_length(fake_gemini, tmp_path):
    solver = "```python\ndef solve(grid):\n    return [row[::-1] for row in grid[::-1]]\n```\n"
    answer = solver + "`" * 5_000_000  # the trailing backticks were also the quadratic case for the old extraction
    fake_gemini.handler = lambda request: answer
    out = tmp_path / "run"
    env = {**os.environ, **fake_gemini.env(), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "arcray", "collect", "--tasks", "arc1/train", "--ids", "3c9b0459", "--teacher", "gemini",
         "--model", "gemini-2.5-flash", "--no-analyst", "--max-generations", "1", "--population", "1",
         "--concurrency", "1", "--no-cache", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    line = (out / "attempts.jsonl").read_text()
    assert len(line) < 4 * STORED_ANSWER_CHARS  # one record, one stored answer: not 10 MB
    [record] = [json.loads(text) for text in line.splitlines()]
    [candidate] = record["generations"][0]
    assert candidate["completion_chars"] == len(answer) and len(candidate["completion"]) == STORED_ANSWER_CHARS
    assert record["fitness"] == record["train_total"] + 10  # the solver was found, run and kept whole

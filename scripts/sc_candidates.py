"""Candidate one-step families for the self-consistency experiment: accuracy of smollm2-135m (bf16, CPU) at T=0.7.

    python scripts/sc_candidates.py add1,add2,mul1,word_add hash 16 40    # FAMILIES INSTRUCTION PROMPTS MAX_NEW_TOKENS

Development prompts only: each family draws from random.Random(f"dev:{family}:{i}"), none of the arith or
arith-1step generators' seeds, so choosing a family here never looks at a prompt the experiments report on
(docs/consistency.md, "Choosing the data", has what it measured).
"""
import random
import sys
import time

from arcray.llm import get_backend
from arcray.llm.types import SamplingParams
from arcray.consistency.extract import extract_number

NAMES = ("Maria", "James", "Aisha", "Chen", "Lucas", "Priya")
def add2(r):  a, b = r.randint(10, 99), r.randint(10, 99); return f"What is {a} + {b}?", a + b
def add1(r):  a, b = r.randint(2, 9), r.randint(2, 9); return f"What is {a} + {b}?", a + b
def addsmall(r): a, b = r.randint(10, 49), r.randint(2, 9); return f"What is {a} + {b}?", a + b
def sub2(r):  a, b = r.randint(10, 99), r.randint(2, 9); return f"What is {a} - {b}?", a - b
def mul1(r):  a, b = r.randint(2, 9), r.randint(2, 9); return f"What is {a} * {b}?", a * b
def word_add(r):
    n = r.choice(NAMES); a, b = r.randint(2, 20), r.randint(2, 20)
    return f"{n} has {a} apples and buys {b} more. How many apples does {n} have now?", a + b
def word_sub(r):
    n = r.choice(NAMES); a = r.randint(10, 30); b = r.randint(2, a - 1)
    return f"{n} has {a} marbles and gives away {b}. How many marbles does {n} have left?", a - b
FAM = dict(add2=add2, add1=add1, addsmall=addsmall, sub2=sub2, mul1=mul1, word_add=word_add, word_sub=word_sub)
INSTR = {"num": "Answer with the number only.", "hash": 'End with a final line of the form "#### N", where N is the answer as a number.'}

fams, instr, count, tokens = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
b = get_backend("hf", model="smollm2-135m", dtype="bfloat16")
for fam in fams:
    qs = [FAM[fam](random.Random(f"dev:{fam}:{i}")) for i in range(count)]
    prompts = [[{"role": "user", "content": f"{q}\n\n{INSTR[instr]}"}] for q, _ in qs]
    t = time.time()
    rows = b.generate(prompts, SamplingParams(n=8, temperature=0.7, max_new_tokens=tokens, seed=1))
    right = [sum(extract_number(c.text or "") == str(a) for c in row) / len(row) for row, (_, a) in zip(rows, qs)]
    print(f"{fam} instr={instr} tok={tokens}: accuracy {sum(right)/len(right):.3f} over {count} prompts x 8, {time.time()-t:.1f}s; e.g. {rows[0][0].text!r}", flush=True)

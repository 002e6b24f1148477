"""How often a seeded sample changes with the batch it is drawn in: the ARC evaluation call on SmolLM2.

    python scripts/draw_invariance.py [--prompts 16] [--n 8] [--dtype bfloat16] [--decode retire]

The decode loop draws each row from its own stream (``arcray.llm.decode``), so a sample can only
change with its batch through the logits' last bits: matrix products of other shapes round
differently, most of all in bfloat16. This asks the call as the experiments send it (compact prompts
of arc1/train tasks of at most 600 cells, two pairs shown, n samples at T=0.7 under the solver grammar,
64 new tokens at most) three ways: every prompt in one call, each prompt alone, and the prompts in
reverse order in chunks of 4. It prints the share of samples that are the same text in all three.
``--decode generate`` measures transformers' generate(), which draws from one seeded global generator
per engine call (short programs can still coincide by chance: that is the floor to compare against).
"""

from __future__ import annotations

import argparse
import json

from arcray.llm import SamplingParams, get_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--decode", default="retire", choices=["retire", "generate"])
    args = parser.parse_args()

    from arcray.arc.render import RenderConfig
    from arcray.arc.tasks import load_tasks
    from arcray.civilization import prompts as arc_prompts
    from arcray.solver.grammar import solver_grammar

    render = RenderConfig(prompt="compact", test_inputs=False, max_train_pairs=2)
    messages = [arc_prompts.programmer_prompt(task, "", render) for task in load_tasks("arc1/train", max_cells=600)[: args.prompts]]
    params = SamplingParams(n=args.n, temperature=0.7, max_new_tokens=64, stop=("```\n\n",), seed=0, grammar=solver_grammar(3))

    def texts(rows):
        return [[c.text for c in row] for row in rows]

    with get_backend("hf", model=args.model, dtype=args.dtype, batch_size=len(messages),
                     decode=args.decode) as backend:
        together = texts(backend.generate(messages, params))
        alone = [texts(backend.generate([m], params))[0] for m in messages]
    with get_backend("hf", model=args.model, dtype=args.dtype, batch_size=4, decode=args.decode) as backend:
        chunked = texts(backend.generate(messages[::-1], params))[::-1]
    pairs = [(t, a, c) for rows in zip(together, alone, chunked) for t, a, c in zip(*rows)]
    report = {"model": args.model, "dtype": args.dtype, "decode": args.decode, "prompts": len(messages), "n": args.n, "samples": len(pairs),
              "same_alone": sum(t == a for t, a, _ in pairs), "same_chunked": sum(t == c for t, _, c in pairs),
              "same_all_three": sum(t == a == c for t, a, c in pairs)}
    report["share_same"] = round(report["same_all_three"] / len(pairs), 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

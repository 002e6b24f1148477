"""Run in the vLLM Python by test_vllm_backend.py: the vllm backend on SmolLM2 with a LoRA adapter.

    python tests/vllm/vllm_checks.py ADAPTER_DIR   # prints one JSON line of observations
"""

from __future__ import annotations

import json
import sys
import threading


def main() -> None:
    from arcray.llm import SamplingParams, get_backend

    adapter = sys.argv[1]
    chat = [{"role": "user", "content": "What is 2 + 3? Answer with one number."}]
    other = [{"role": "user", "content": "Name a colour."}]
    spec = {"backend": "vllm", "model": "smollm2-135m", "adapter": adapter, "max_model_len": 1024, "kv_cache_gib": 1,
            "max_lora_rank": 16}
    backend = get_backend(spec, callers=3)  # behind the batching queue: three threads below
    out: dict = {"name": backend.name}

    sampled = backend.generate([chat, other], SamplingParams(n=3, temperature=0.8, max_new_tokens=24, seed=1))
    out["sampled"] = [[{"text": c.text, "tokens": c.completion_tokens, "prompt_tokens": c.prompt_tokens, "ok": c.ok}
                       for c in row] for row in sampled]
    stopped = backend.generate(["1, 2, 3, 4,"], SamplingParams(max_new_tokens=32, stop=(" 7",)))[0][0]
    out["stopped"] = {"text": stopped.text, "finish": stopped.finish_reason}
    length = backend.generate([chat], SamplingParams(max_new_tokens=5, ignore_eos=True))[0][0]
    out["length"] = {"tokens": length.completion_tokens, "finish": length.finish_reason}
    too_long = backend.generate(["word " * 3000, chat], SamplingParams(max_new_tokens=4))
    out["too_long"] = [{"ok": row[0].ok, "kind": row[0].error_kind, "error": row[0].error} for row in too_long]

    greedy = SamplingParams(max_new_tokens=12)
    out["lora"] = backend.generate([chat], greedy)[0][0].text
    engine = backend.inner  # the VLLMBackend behind the queue
    from vllm import SamplingParams as VSampling

    base = engine.llm.chat([chat], VSampling(temperature=0.0, max_tokens=12), use_tqdm=False)  # no LoRA request
    out["base"] = base[0].outputs[0].text

    results: dict[int, str] = {}

    def call(index: int) -> None:
        results[index] = backend.generate([[{"role": "user", "content": f"Count to {index + 2}."}]], greedy)[0][0].text

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out["threads"] = [results[i] for i in range(3)]

    from arcray.solver.grammar import solver_grammar

    task = [{"role": "user", "content": "Example 1\nInput (2x2):\n12\n34\nOutput (2x2):\n21\n43\n\n"
             "Write solve(grid) for this task with arcdsl."}]
    constrained = backend.generate([task], SamplingParams(n=4, temperature=1.0, max_new_tokens=160, seed=3,
                                                          grammar=solver_grammar(3)))[0]
    out["grammar"] = [{"text": c.text, "finish": c.finish_reason, "ok": c.ok} for c in constrained]
    out["batching"] = backend.report().get("batching")
    out["usage"] = backend.usage.to_dict(None)
    backend.close()
    print(json.dumps(out))


if __name__ == "__main__":  # vLLM spawns its engine process: the guard keeps it from re-running this
    main()

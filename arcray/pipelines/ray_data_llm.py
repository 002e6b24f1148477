"""Self-consistency sampling on Ray Data LLM: ``pipeline: ray-data-llm`` with a ``vllm`` student.

Ray Data LLM (``ray.data.llm.build_processor`` over a ``vLLMEngineProcessorConfig``) runs vLLM
engines as a Ray Data stage: it tokenizes, streams rows into each engine's continuous batching,
detokenizes, and scales engines with ``concurrency``. It hands back one completion per row, so a
prompt sampled ``n`` times goes in as ``n`` rows (vLLM's prefix cache computes the shared prompt
once); the driver gathers a prompt's rows, judges them (code in the sandbox) and appends the same
``samples.jsonl`` record the actor pool writes, as soon as its last sample is in. Resume works as
there: a recorded prompt is never sent again, and a failed row leaves its prompt for the next run.

On a CPU-only cluster each engine takes ``num_cpus_per_actor`` CPUs through a placement-group
bundle (Ray Data LLM asks for a GPU per engine by default); on CPU the engine is seeded once and
rows go unseeded (see :mod:`arcray.llm.vllm_engine`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from arcray.consistency import Judge, Problem, prompt_record
from arcray.consistency.records import Sample
from arcray.llm.hf import resolve_model
from arcray.llm.types import Completion, SamplingParams
from arcray.llm.vllm_engine import VLLMConfig, call_seed, engine_kwargs, sampling_fields
from arcray.runtime.resumable import Failed

LIGHT_STAGE_CPUS = 0.1


def _serve_importable() -> bool:
    try:
        import ray.serve  # noqa: F401
    except ImportError:
        return False
    return True


def render(tokenizer: Any, prompt: Any) -> str:
    """A prompt as the text the engine completes: a chat through the model's template, text as it is."""
    if isinstance(prompt, str):
        return prompt
    return tokenizer.apply_chat_template([dict(m) for m in prompt], add_generation_prompt=True, tokenize=False)


def request_rows(problems: list[Problem], sampling_for, tokenizer: Any, *, cpu: bool, lora: str | None) -> list[dict[str, Any]]:
    """One row per sample to draw: greedy prompts once (their n samples are one), others n times.
    ``lora``: the adapter's folder, which Ray Data LLM loads as a LoRA request for the row."""
    rows = []
    for problem in problems:
        params: SamplingParams = sampling_for(problem)
        text = render(tokenizer, problem.prompt)
        for sample in range(1 if params.greedy else params.n):
            row = {"id": problem.id, "sample": sample, "prompt": text,
                   "sampling_params": sampling_fields(params, call_seed(params, sample), cpu=cpu, n=1)}
            if lora:
                row["model"] = lora
            rows.append(row)
    return rows


def _completion(row: dict[str, Any], max_tokens: int) -> Completion:
    tokens = int(row.get("num_generated_tokens") or 0)
    return Completion(text=row.get("generated_text") or "", finish_reason="length" if tokens >= max_tokens else "stop",
                      prompt_tokens=int(row.get("num_input_tokens") or 0), completion_tokens=tokens)


def sample_on_ray_data_llm(config: Any, pending: list[Problem], sampling_for, done: dict[str, Sample], *,
                           append: Callable[..., set[str]], recorded) -> int:
    """Append each finished prompt's record through ``append`` (:func:`arcray.runtime.resumable.append_each_once`
    with all but the rows and ``parse`` given); return how many prompts failed to generate (not recorded)."""
    import ray
    from ray.data.llm import build_processor, vLLMEngineProcessorConfig

    from arcray.llm.loading import load_tokenizer
    from arcray.runtime.ray_setup import ensure_ray

    student: VLLMConfig = config.student
    ensure_ray()
    cpu = ray.cluster_resources().get("GPU", 0) < 1
    model_path = resolve_model(student.model)
    engine = engine_kwargs(student, model_path, cpu=cpu)
    engine.pop("model")
    lora = student.adapter.resolve() if student.adapter is not None else None
    # engine_kwargs set it here (an explicit value wins); the engines' actors need it too
    env = {"VLLM_CPU_KVCACHE_SPACE": os.environ["VLLM_CPU_KVCACHE_SPACE"]} if cpu else {}
    processor = build_processor(
        vLLMEngineProcessorConfig(
            model_source=model_path,
            engine_kwargs=engine,
            batch_size=config.batch_size,
            concurrency=config.concurrency,
            runtime_env={"env_vars": env},
            # Ray Data LLM reserves a GPU per engine unless its bundle says otherwise
            placement_group_config={"bundles": [{"CPU": config.num_cpus_per_actor}]} if cpu else None,
            # no dynamic_lora_loading_path: that is for buckets (s3://, gs://); a row's "model" naming a
            # local folder loads the adapter from there
            chat_template_stage=False,  # rendered here, with the same template the other backends use
            # Tokenizing, detokenizing, pre- and postprocessing are light; at Ray Data's default of a CPU each
            # they hold the CPUs a small node's engine needs, and the pipeline waits for ever.
            tokenize_stage={"num_cpus": LIGHT_STAGE_CPUS},
            detokenize_stage={"num_cpus": LIGHT_STAGE_CPUS},
            should_continue_on_error=True,
            log_engine_metrics=_serve_importable(),  # vLLM's Ray metrics import ray.serve (ray[serve])
        ),
        postprocess=lambda row: {"id": row["id"], "sample": row["sample"], "generated_text": row.get("generated_text"),
                                 "num_input_tokens": row.get("num_input_tokens"),
                                 "num_generated_tokens": row.get("num_generated_tokens")},
        preprocess_map_kwargs={"num_cpus": LIGHT_STAGE_CPUS},
        postprocess_map_kwargs={"num_cpus": LIGHT_STAGE_CPUS},
    )
    tokenizer = load_tokenizer(model_path, padding_side="left")
    rows = request_rows(pending, sampling_for, tokenizer, cpu=cpu, lora=str(lora) if lora else None)
    problems = {p.id: p for p in pending}
    wanted = Counter(row["id"] for row in rows)  # rows per prompt: 1 when greedy, else n
    gathered: dict[str, dict[int, Completion]] = {}
    failed: set[str] = set()
    judge = Judge(code_timeout_s=config.code_timeout_s)

    def parse(row: dict[str, Any]) -> Sample | Failed | None:
        """A prompt's record once its last sample is in; None while samples are still coming."""
        pid = row["id"]
        error = row.get("__inference_error__")  # failed rows skip the postprocess
        if error:
            failed.add(pid)
            return Failed(pid, str(error))
        params = sampling_for(problems[pid])
        gathered.setdefault(pid, {})[int(row["sample"])] = _completion(row, params.max_new_tokens)
        if pid in failed or len(gathered[pid]) < wanted[pid] or pid in done:
            return None
        completions = [gathered[pid][i] for i in range(wanted[pid])]
        if params.greedy:
            completions = completions * params.n
        return prompt_record(problems[pid], completions, judge, sampling=recorded(params))

    return len(append(processor(ray.data.from_items(rows)).iter_rows(), parse=parse))

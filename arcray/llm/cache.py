"""A response cache on disk: re-running an experiment pays nothing for what it already asked.

One JSON file per sample, named by the SHA-256 of (backend identity, full prompt, sampling
parameters, sample index) and sharded into two levels of folders. A writer fills a temporary
file beside the target and renames it into place (``os.replace``), so readers see a whole
entry or none, concurrent writers of one key cannot corrupt it, and it works on NFS. Only
successful completions are stored: a failure is asked again next time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from arcray.files import atomic_write
from arcray.llm.backend import Backend, NormalizedPrompt, WrappedBackend
from arcray.llm.types import Completion, SamplingParams

log = logging.getLogger(__name__)

SCHEMA = 1  # bump when the key or entry layout changes


def cache_key(identity: dict[str, Any], prompt: NormalizedPrompt, params: SamplingParams, sample_index: int) -> str:
    material = {
        "schema": SCHEMA,
        "identity": identity,
        "prompt": prompt,
        "params": params.cache_fields(),
        "sample": sample_index,
    }
    text = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ResponseCache:
    """Completions on disk by key; safe for many processes and machines at once."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        path = self.path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:  # a damaged entry is a miss; the next put replaces it
            log.warning("ignoring unreadable cache entry %s: %s", path, error)
            return None
        return Completion.from_dict(data["completion"]).as_cached()

    def put(self, key: str, completion: Completion, **context: Any) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"completion": {**completion.to_dict(), "cached": False}, **context}
        atomic_write(path, json.dumps(entry, ensure_ascii=False))

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*/*.json"))


class CachedBackend(WrappedBackend):
    """Any backend, answering from the cache first and asking only for what is missing."""

    def __init__(self, inner: Backend, cache: ResponseCache) -> None:
        super().__init__(inner)  # the tally: what the inner backend paid, plus cache hits
        self.cache = cache

    def _generate(
        self, prompts: list[NormalizedPrompt], params: SamplingParams, first_sample: int
    ) -> list[list[Completion | None]]:  # type: ignore[override]
        identity = self.identity
        indices = range(first_sample, first_sample + params.n)
        keys = [[cache_key(identity, prompt, params, i) for i in indices] for prompt in prompts]
        results: list[list[Completion | None]] = [[self.cache.get(k) for k in row] for row in keys]

        # Ask for each prompt's missing span, grouping prompts whose spans match into one call.
        spans: dict[tuple[int, int], list[int]] = {}
        for p, row in enumerate(results):
            missing = [j for j, completion in enumerate(row) if completion is None]
            if missing:
                spans.setdefault((missing[0], missing[-1] + 1), []).append(p)
        for (lo, hi), members in spans.items():
            fresh = self.inner.generate(
                [prompts[p] for p in members], params.model_copy(update={"n": hi - lo}), first_sample=first_sample + lo
            )
            for p, completions in zip(members, fresh, strict=True):
                for offset, completion in enumerate(completions):
                    j = lo + offset
                    if results[p][j] is not None:
                        continue  # inside the span but already cached: keep the cached one
                    results[p][j] = completion
                    if completion.ok:
                        self.cache.put(keys[p][j], completion, identity=identity, sample=first_sample + j)
        return results

    def _account(self, results: list[list[Completion]]) -> None:
        self.usage.add_all(c for row in results for c in row if c.cached)  # the rest the inner counted


"""Pushing a run's adapter or dataset to the Hugging Face Hub, with its card.

    arcray hub push runs/main/arc-distillation/split-100/train --repo you/arc-student [--evaluation RUN]... [--dry-run]
    arcray hub push runs/main/arc-distillation/split-100/data --repo you/arc-distill-data

The run's manifest says what it is: a ``train`` run pushes its adapter (a model repository), a ``prepare`` run its
dataset (a dataset repository). What is pushed is staged in a temporary folder first, so the run directory is
never changed: the adapter's card is rendered again there with the figures of the evaluation runs named by
``--evaluation``. The token comes from ``HF_TOKEN`` or ``hf auth login``'s store (huggingface_hub reads both); it is
handed to the client and never written, logged or recorded. ``HF_ENDPOINT`` points the client at another hub.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from arcray.cards import collection_source, write_adapter_card, write_dataset_card
from arcray.errors import ArcrayError
from arcray.runtime.manifest import Manifest, read_artifact

ADAPTER_DIR = "adapter"
DATASET_FILES = ("README.md", "dataset", "train.jsonl", "validation.jsonl", "stats.json", "exemplars.json")
EVALUATION_FIGURES = ("tasks", "solved_pass2", "solved_pass1", "runnable_share", "submission_score")


def stage_push(run: Path, folder: Path, *, evaluations: list[Path] = ()) -> tuple[str, Manifest]:
    """Copy what ``run`` pushes into ``folder``; the repository type ("model" or "dataset") and the run's manifest."""
    manifest = read_artifact(run, need=("train", "prepare"), role="hub push")
    if manifest.stage == "prepare":
        for name in DATASET_FILES:
            source = run / name
            if source.is_dir():
                shutil.copytree(source, folder / name)
            elif source.is_file():
                shutil.copy2(source, folder / name)
        if not (folder / "README.md").is_file():  # a run prepared before datasets had cards: rendered from its records
            write_dataset_card(folder, config=manifest.config, stats=_json(run / "stats.json"),
                               held_out=list(manifest.exports.get("held_out_ids") or []),
                               sources=[_source(ref, run) for ref in manifest.inputs])
        return "dataset", manifest
    adapter = run / ADAPTER_DIR
    if not (adapter / "adapter_config.json").is_file():
        raise ArcrayError(f"{run} has no adapter/adapter_config.json: the training run did not finish; re-run `arcray train`")
    shutil.copytree(adapter, folder, dirs_exist_ok=True)
    summary = _json(run / "summary.json")
    prepared = _manifest_or_none(manifest.config.get("data"), run)
    write_adapter_card(folder, model=manifest.config["model"], config=manifest.config, summary=summary, prepared=prepared,
                       evaluations={path.name: _figures(path) for path in evaluations})
    return "model", manifest


def push(run: Path, repo: str, *, evaluations: list[Path] = (), private: bool = False, dry_run: bool = False,
         endpoint: str | None = None) -> dict[str, Any]:
    """Stage and (unless ``dry_run``) upload; what was pushed where."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo)
    except HFValidationError as error:
        raise ArcrayError(f"--repo {repo!r} is not a hub repository id ({str(error).splitlines()[0]}); use OWNER/NAME") from None
    with tempfile.TemporaryDirectory(prefix="arcray-push-") as staging:
        folder = Path(staging) / run.name
        folder.mkdir()
        kind, manifest = stage_push(run, folder, evaluations=evaluations)
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        result = {"run": str(run), "stage": manifest.stage, "repo": repo, "repo_type": kind, "files": files,
                  "pushed": False}
        if dry_run:
            return result
        result["url"] = _upload(folder, repo, kind, private=private, endpoint=endpoint,
                                message=f"arcray {manifest.stage} run {run.name} (arcray {manifest.provenance.arcray}, "
                                        f"git {(manifest.provenance.git_sha or 'unknown')[:12]})")
        result["pushed"] = True
        return result


def _upload(folder: Path, repo: str, kind: str, *, private: bool, endpoint: str | None, message: str) -> str:
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    token = get_token()  # HF_TOKEN, or the token `hf auth login` stored
    if not token:
        raise ArcrayError("no Hugging Face token: set HF_TOKEN or run `hf auth login`, then push again "
                          "(--dry-run lists what would be pushed without one)")
    api = HfApi(endpoint=endpoint, token=token)
    try:
        url = api.create_repo(repo, repo_type=kind, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo, repo_type=kind, commit_message=message)
    except HfHubHTTPError as error:
        status = getattr(error.response, "status_code", None)
        hint = {401: "the token was refused: check HF_TOKEN", 403: "the token may not write to this repository"}.get(status, "")
        raise ArcrayError(f"the hub refused the push to {repo} (HTTP {status}){': ' + hint if hint else ''}; "
                          "nothing in the run directory changed, push again once fixed") from None
    except OSError as error:  # requests' connection errors are OSErrors
        raise ArcrayError(f"cannot reach the hub at {endpoint or api.endpoint} ({type(error).__name__}); check the "
                          "network or HF_ENDPOINT, then push again") from None
    return str(url)


def _source(ref: Any, run: Path) -> dict[str, Any]:
    """An input of a prepare run as its dataset card names it (the collection's own manifest, where it is found)."""
    collected = _manifest_or_none(ref.location, run) if ref.stage == "collect" else None
    if collected is None:
        return {"location": ref.location, "stage": ref.stage or "self-consistency records"}
    return collection_source(ref.location, collected, tasks=collected.exports.get("tasks"),
                             min_fitness=collected.exports.get("min_fitness"))


def _figures(run: Path) -> dict[str, Any]:
    manifest = read_artifact(run, need=("evaluate",), role="--evaluation")
    tasks = manifest.config.get("tasks")
    figures = {key: manifest.metrics[key] for key in EVALUATION_FIGURES if key in manifest.metrics}
    return {f"{key} ({tasks})" if tasks and key == "tasks" else key: value for key, value in figures.items()}


def _manifest_or_none(location: Any, run: Path) -> Manifest | None:
    """The manifest at a location a stage recorded: relative to where that stage ran, so tried against each folder
    above ``run`` too."""
    from arcray.runtime.manifest import load_manifest

    if not location:
        return None
    for base in (Path.cwd(), *run.resolve().parents):
        try:
            found = load_manifest(base / location)
        except ArcrayError:
            continue
        if found is not None:
            return found
    return None


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}

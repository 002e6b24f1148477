"""`arcray kaggle bundle`: an evaluation run turned into a Kaggle dataset folder that answers ARC Prize offline.

The folder holds everything the competition's notebook may not download:
- ``wheels/``: arcray's own wheel (built from this checkout) and any ``--wheel`` the Kaggle image lacks;
- ``model/`` (and ``adapter/``): the student the evaluation scored, as a plain Hugging Face folder;
- ``exemplars.json``: the pool its prompt lists programs from, when it has one;
- ``bundle.json``: the evaluation's own settings (prompt, sampling, seeds, sandbox), paths made relative, so the
  notebook answers exactly as `arcray evaluate` did;
- ``arcray-kaggle.ipynb`` and ``dataset-metadata.json`` (for ``kaggle datasets create -p DIR``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from arcray.errors import ArcrayError
from arcray.kaggle.notebook import write_notebook
from arcray.runtime.manifest import load_manifest

BUNDLE_FILE = "bundle.json"
NOTEBOOK = "arcray-kaggle.ipynb"
FORMAT = 1


def build_bundle(evaluation: Path, out: Path, *, wheels: list[Path] = (), budget_s: float = 11 * 3600,
                 dataset_id: str = "YOUR-KAGGLE-NAME/arcray-bundle") -> dict[str, Any]:
    """Write the bundle for the evaluate run ``evaluation`` into ``out`` (made afresh); what it holds."""
    manifest = load_manifest(evaluation)
    if manifest is None or manifest.stage != "evaluate" or manifest.status != "complete":
        raise ArcrayError(f"{evaluation} is not a finished `arcray evaluate` run; bundle the evaluation whose score you "
                          "want on Kaggle (its student, prompt and sampling travel as they were)")
    config = dict(manifest.config)
    student = dict(config["student"])
    if student.get("backend") != "hf":
        raise ArcrayError(f"the evaluation's student runs on the {student.get('backend')} backend; a Kaggle notebook has no "
                          "network, so only a local hf student can be bundled")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    from arcray.llm.hf import resolve_model

    _copy_model(Path(resolve_model(student["model"])), out / "model")
    student["model"] = "model"
    if student.get("adapter"):
        shutil.copytree(student["adapter"], out / "adapter")
        student["adapter"] = "adapter"
    render = dict(config.get("render") or {})
    if render.get("exemplar_pool"):
        shutil.copy2(render["exemplar_pool"], out / "exemplars.json")
        render["exemplar_pool"] = "exemplars.json"
    evaluate = {key: config[key] for key in ("evolution", "sandbox", "tasks_per_actor") if key in config}
    evaluate.update(student=student, render=render)
    built = [_arcray_wheel(out / "wheels")]
    for wheel in wheels:
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise ArcrayError(f"--wheel {wheel}: not a .whl file; download it with `pip download --no-deps NAME -d DIR`")
        shutil.copy2(wheel, out / "wheels" / wheel.name)
        built.append(out / "wheels" / wheel.name)
    from arcray import __version__

    record = {"format": FORMAT, "arcray": __version__, "evaluation": str(evaluation.resolve()),
              "evaluated_on": config.get("tasks"), "score_there": manifest.metrics.get("submission_score"),
              "evaluate": evaluate}
    (out / BUNDLE_FILE).write_text(json.dumps(record, indent=2) + "\n")
    write_notebook(out / NOTEBOOK, dataset=dataset_id.split("/")[-1], budget_s=budget_s)
    (out / "dataset-metadata.json").write_text(json.dumps(
        {"title": "arcray bundle", "id": dataset_id, "licenses": [{"name": "apache-2.0"}]}, indent=2) + "\n")
    return {"out": str(out), "wheels": [p.name for p in built], "model": _size(out / "model"),
            "adapter": _size(out / "adapter") if (out / "adapter").exists() else None, "notebook": str(out / NOTEBOOK)}


def _copy_model(source: Path, target: Path) -> None:
    """The model folder's files without what loading does not need (other formats, hub caches)."""
    skip = ("*.gguf", "*.bin.index.json.lock", ".cache", "*.msgpack", "*.h5", "*.onnx")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*skip))


def _arcray_wheel(folder: Path) -> Path:
    """arcray's wheel, built offline from the checkout this arcray is installed from (pip; no build isolation, so
    nothing is downloaded)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise ArcrayError("arcray is not installed from a source checkout here, so its wheel cannot be built: run "
                          "`arcray kaggle bundle` from a clone (`pip install -e .`)")
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                             "-q", "-w", str(folder), str(root)], capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ArcrayError(f"building arcray's wheel failed ({last}); install setuptools and wheel, then run it again")
    built = sorted(folder.glob("arcray-*.whl"))
    if not built:
        raise ArcrayError(f"pip built no arcray wheel into {folder}")
    return built[-1]


def _size(folder: Path) -> str:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"{total / 2**20:.1f} MiB"

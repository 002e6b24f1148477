"""From prepared chats to batches: the loss sees the assistant's tokens only, and batches pad to their longest."""

import pytest

from arcray.errors import ArcrayError
from arcray.training.config import TrainConfig
from arcray.training.data import load_training_data, to_prompt_completion
from arcray.training.worker import build_trainer, data_stats


def test_a_chat_splits_into_prompt_and_completion():
    chat = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]
    row = to_prompt_completion(chat)
    assert row == {"prompt": chat[:2], "completion": chat[2:]}
    with pytest.raises(ArcrayError, match="ends with the assistant's turn"):
        to_prompt_completion(chat[:2])


def test_prepared_splits_load(chat_data, train_only_data):
    data = load_training_data(chat_data)
    assert len(data.train) == 12 and len(data.validation) == 4
    assert data.train[0]["completion"][0]["role"] == "assistant"
    assert not load_training_data(train_only_data).has_validation


@pytest.fixture(scope="module")
def trainer(chat_data, tiny_base, tmp_path_factory):
    config = TrainConfig.build(data=chat_data, model=str(tiny_base), out=tmp_path_factory.mktemp("run"), load_in_4bit=False,
                               batch_size=4, max_length=256, activation_checkpointing=True)  # as on a GPU or 4-bit base
    data = load_training_data(chat_data)
    built = build_trainer(config, data.train, data.validation, model_path=str(tiny_base),
                          output_dir=str(tmp_path_factory.mktemp("out")), device="cpu")
    return built, data


def test_loss_mask_covers_the_assistant_turn_only(trainer):
    built, data = trainer
    tokenizer = built.processing_class
    for row, example in zip(data.train, built.train_dataset):
        labelled = [t for t, label in zip(example["input_ids"], example["labels"]) if label != -100]
        assert tokenizer.decode(labelled) == row["completion"][0]["content"] + tokenizer.eos_token
        first = next(i for i, label in enumerate(example["labels"]) if label != -100)
        assert tokenizer.decode(example["input_ids"][:first]).endswith("<|assistant|>")
        assert all(label == -100 for label in example["labels"][:first])


def test_batches_pad_to_their_longest_example_not_to_max_length(trainer):
    built, _ = trainer
    examples = [built.train_dataset[i] for i in range(4)]
    batch = built.data_collator(examples)
    longest = max(len(e["input_ids"]) for e in examples)
    assert batch["input_ids"].shape == (4, longest) and longest < 256
    assert int(batch["attention_mask"].sum()) == sum(len(e["input_ids"]) for e in examples)


def test_data_stats_count_what_the_loss_sees(trainer):
    built, data = trainer
    stats = data_stats(built, data.train, data.validation, max_length=256)
    assert stats["train_examples"] == 12 and stats["dropped_examples"] == 0 and stats["truncated_examples"] == 0
    assert 0 < stats["completion_tokens"] < stats["train_tokens"]


def test_only_lora_parameters_train_with_non_reentrant_checkpointing(trainer):
    built, _ = trainer
    trainable = [name for name, p in built.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    assert {name.split(".")[-4] for name in trainable} == {"q_proj", "v_proj"}
    assert built.args.activation_checkpointing and built.args.activation_checkpointing_kwargs == {"use_reentrant": False}

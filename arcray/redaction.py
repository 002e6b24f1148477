"""Secrets never reach a file or a log: every text arcray writes is scrubbed of their values.

A key can arrive by any route: a server that echoes the key it received inside its answer (a
hostile or misconfigured OpenAI-compatible proxy), an error message that quotes it, a prompt a
user pasted it into. So instead of guarding each route, the writers guard the exits: the record
appender, :func:`arcray.files.atomic_write` (configs, summaries, reports, the response cache),
warnings and log records all pass their text through :func:`scrub`, which replaces the value of
every environment variable a backend reads for a secret (``GEMINI_API_KEY``, ``GOOGLE_API_KEY``,
``OPENAI_API_KEY``, ``HF_TOKEN``, …, and any other variable whose name says key, token, secret or
password, such as the one an openai backend's ``api_key_env`` names) with ``[NAME redacted]``.
Values shorter than 8 characters are left alone: they are not keys, and scrubbing them would
mangle ordinary text.
"""

from __future__ import annotations

import json
import logging
import os
import re

KNOWN = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "WANDB_API_KEY",
         "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
MIN_LENGTH = 8
_REGISTERED: dict[str, str] = {}  # secrets a backend holds that no variable of this process names


def register(value: str | None, name: str = "API key") -> None:
    """Scrub ``value`` too from now on in this process (a backend calls it with the key it was handed)."""
    if value and len(value.strip()) >= MIN_LENGTH:
        _REGISTERED[value.strip()] = name


def secrets() -> list[tuple[str, str]]:
    """(name, value) for every secret registered and every one in this process's environment now (read
    each time: a key may be set later), longest value first."""
    found = [(name, value) for value, name in _REGISTERED.items()]
    for name, value in os.environ.items():
        if (name in KNOWN or SECRET_NAME.search(name)) and len(value.strip()) >= MIN_LENGTH:
            found.append((name, value.strip()))
    return sorted(found, key=lambda pair: -len(pair[1]))


def scrub(text: str) -> str:
    """``text`` with every secret's value, as written and as JSON escapes it, replaced by ``[NAME redacted]``."""
    if not isinstance(text, str) or not text:
        return text
    for name, value in secrets():
        for form in {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}:
            if form in text:
                text = text.replace(form, f"[{name} redacted]")
    return text


class _ScrubbedRecord(logging.LogRecord):
    """A log record whose message is scrubbed when it is formatted, by whichever handler formats it."""

    def getMessage(self) -> str:  # noqa: N802 - logging's name
        return scrub(super().getMessage())


def install_log_scrubber() -> None:
    """Every log record made in this process from now on is scrubbed (idempotent)."""
    if logging.getLogRecordFactory() is logging.LogRecord:
        logging.setLogRecordFactory(_ScrubbedRecord)

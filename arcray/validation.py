"""What every typed config shares: the strict base model, the run-directory field, and the one
explainer that turns a pydantic validation error into one line naming the field and the fix."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from arcray.errors import ConfigError, did_you_mean


class Strict(BaseModel):
    """A config part: unknown keys are refused (with "did you mean"), values never change once built."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


def _path_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, os.PathLike) else value


# A run directory: a local path (given as str or Path) or a storage URI (s3://…, gs://…), kept as text.
RunOut = Annotated[str, BeforeValidator(_path_as_text)]


def absolute_if_folder(value: str) -> str:
    """A name that is a local folder, as an absolute path (Ray workers and Tune trials run in other
    folders); anything else (a hub id, an alias) unchanged."""
    path = Path(value).expanduser()
    return str(path.resolve()) if path.is_dir() else value


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _submodel(arg)
        if found:
            return found
    return None


def explain_validation(error: ValidationError, model: type[BaseModel], where: str) -> str:
    """``where: field.path: what is wrong`` — unknown keys get the nearest allowed name."""
    first = error.errors()[0]
    loc = [str(part) for part in first["loc"]]
    location = ".".join(loc) or where
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    if first["type"] == "extra_forbidden":
        current: type[BaseModel] | None = model
        for part in loc[:-1]:
            field = current.model_fields.get(part) if current else None
            current = _submodel(field.annotation) if field else None
        allowed = list(current.model_fields) if current else []
        return f"{where}: unknown key {location!r}{did_you_mean(loc[-1], allowed)}{more}"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}{more}" if not loc else f"{where}: {location}: {message}{more}"


def build_config(schema: type[BaseModel], where: str, /, **fields: Any) -> Any:
    """Validate ``fields`` as ``schema``; ConfigError with one line on any problem."""
    try:
        return schema(**fields)
    except ValidationError as error:
        raise ConfigError(explain_validation(error, schema, where)) from None


def with_default(text: str, model: type[BaseModel], name: str, default: Any = None) -> str:
    """A flag's help ending in the config field's own default (``default`` overrides it), so the
    CLI never restates a default the config declares."""
    value = model.model_fields[name].get_default(call_default_factory=True) if default is None else default
    if isinstance(value, (list, tuple)):
        value = ",".join(map(str, value))
    elif isinstance(value, bool):
        value = "yes" if value else "no"
    return f"{text} (default {value})"

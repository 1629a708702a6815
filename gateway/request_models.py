"""What every request body and query validates as: the base model that refuses hostile input, and the 422 that
names each bad field without quoting the input back whole."""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from gateway.input_guard import refuse_operator_keys, refuse_oversized_ints
from gateway.problems import ValidationFailed, input_prefix

# Long enough for every message the models write themselves; a validator quoting input is cut here.
MAX_MESSAGE_CHARS = 200


class RequestModel(BaseModel):
    """Base of every request body and query: unknown fields are refused, strings trimmed, operator keys refused.

    Typed fields already refuse an object where a scalar belongs; free-form fields (dicts, lists, Any)
    are walked so no key starting with `$` or containing `.` can reach a MongoDB query. Every integer field
    has bounds of its own; any integer still outside int64 (a field that forgot them, a free-form value) is
    refused here rather than failing in the MongoDB driver.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    _no_operator_keys = field_validator("*", mode="after")(refuse_operator_keys)
    _no_oversized_ints = field_validator("*", mode="after")(refuse_oversized_ints)


def validate(model: type[BaseModel], data: Any, *, location: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(errors=field_errors(error, location)) from None


def field_errors(error: ValidationError, location: str) -> list[dict[str, Any]]:
    """Each bad field as {field, message, code}; `field` is a dotted path inside `location`.

    Paths and messages can quote the input (an unknown field's name, a dict key, a validator's text): each part is
    cut to a short prefix, so a refused request is never mirrored back whole.
    """
    return [
        {
            # An operator key deep inside a free-form field is named by its own path, not just the field's.
            "field": ".".join(
                input_prefix(str(part)) for part in (location, *problem["loc"], *problem.get("ctx", {}).get("key_path", ()))
            ),
            "message": input_prefix(problem["msg"], MAX_MESSAGE_CHARS),
            "code": problem["type"],
        }
        for problem in error.errors(include_url=False, include_input=False)
    ]

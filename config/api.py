"""What every API endpoint shares: the JSON parser, the error body, strict input fields and the schema views.

One error body for every 4xx, DRF's standard: `{"field": ["message", ...]}`, and `{"detail": "message"}` for an error
tied to no field. Nested serializer errors are flattened to dotted names (`ratings.left.accuracy`), the names the
services already use. Services raise their own exceptions with `field: problem` messages; `field_errors` turns those
into the same body, so views translate a service error with one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from config import json_input
from config.ids import MAX_ID


class Conflict(APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class PayloadTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class StrictJSONParser(JSONParser):
    """JSON bodies with finite numbers only, nested at most json_input.MAX_DEPTH levels.

    The size limit is Django's DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads JSON through `request.body`); the exception
    handler answers it with a 413."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            return json_input.loads(stream.read().decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details → {"dotted.field": [messages]}; "non_field_errors" and "detail" → "detail"."""
    if isinstance(errors, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            name = "detail" if key in ("detail", "non_field_errors") and not prefix else f"{prefix}{key}"
            for field, messages in _flatten(value, f"{name}.").items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(errors, list) and any(isinstance(item, Mapping | list) for item in errors):
        return _flatten(dict(enumerate(errors)), prefix)
    messages = [str(item) for item in errors] if isinstance(errors, list) else [str(errors)]
    return {prefix.rstrip(".") or "detail": messages}


def error_body(errors: Any) -> dict[str, Any]:
    """The one 4xx body: field → list of messages, and `detail` a single string."""
    flat = _flatten(errors)
    if "detail" in flat:
        flat["detail"] = " ".join(flat["detail"])
    return flat


def exception_handler(exc: Exception, context: dict) -> Any:
    """DRF's handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]), with every error body reshaped by `error_body`."""
    from rest_framework.views import exception_handler as drf_exception_handler  # it imports these settings

    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = PayloadTooLarge(f"request bodies are limited to {limit:,} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)")
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):  # Django's own form limits, raised while parsing
        exc = ParseError(str(exc))
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(response.data)
    return response


def field_errors(messages: Iterable[str] | Mapping[str, str]) -> dict[str, list[str]]:
    """A service's messages as an error body: `field: problem` → {"field": ["problem"]}, anything else → detail."""
    if isinstance(messages, Mapping):
        return {field: [message] for field, message in messages.items()}
    errors: dict[str, list[str]] = {}
    for message in messages:
        field, sep, problem = message.partition(": ")
        if not sep or not field or " " in field:
            field, problem = "detail", message
        errors.setdefault(field, []).append(problem)
    return errors


def rejected(messages: Iterable[str] | Mapping[str, str]) -> serializers.ValidationError:
    """A 400 for a service's refusal: `raise rejected(exc.errors) from exc`."""
    return serializers.ValidationError(field_errors(messages))


def conflict(messages: Iterable[str] | Mapping[str, str]) -> Conflict:
    """A 409 for a refusal that depends on state (a closed campaign, a run that already ended)."""
    return Conflict(field_errors(messages))


class TextField(serializers.CharField):
    """A JSON string, never a number or a list turned into one (DRF's CharField accepts 5 as "5")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer, never a string, a boolean or a float (DRF's IntegerField accepts "5" and 5.0)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(WholeNumberField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


# A `<slug:slug>` path segment, so that generated clients (and the fuzzer) know what the route accepts.
SLUG_PATH = OpenApiParameter("slug", str, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$")


class ErrorSerializer(serializers.Serializer):
    """The 4xx body (described by ErrorSchema: `detail` and any field name → messages)."""

    detail = serializers.CharField(required=False)


class ErrorSchema(OpenApiSerializerExtension):
    target_class = ErrorSerializer

    def map_serializer(self, auto_schema, direction) -> dict:
        return {
            "type": "object",
            "description": 'Every 4xx: {"field": ["message", ...]} (nested fields dotted, e.g. `ratings.left.accuracy`),'
            ' and "detail" for an error tied to no field.',
            "properties": {"detail": {"type": "string"}},
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }


_ERROR_MEANINGS = {
    400: "Invalid input: every problem, by field.",
    401: "Not signed in (no or a wrong token).",
    403: "Signed in, but the role does not allow this.",
    404: "No such object, or not yours.",
    409: "Refused in the current state.",
    413: "The body is over the size limit.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error responses for `extend_schema(responses=...)`: the given codes plus 401 and 403, which every call has."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_MEANINGS[code]) for code in sorted({401, 403, *codes})
    }

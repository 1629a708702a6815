"""The OpenAPI 3.1 document, built from the same pydantic models that validate requests and answers."""

import functools
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from gateway.http_access import OPENAPI_SECURITY_SCHEMES
from gateway.problems import PROBLEM_CONTENT_TYPE
from gateway.routing import Operation

REF_TEMPLATE = "#/components/schemas/{model}"


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the bad field, starting with body or query")
    message: str
    code: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; `type` is stable and safe to switch on."""

    type: str = Field(examples=["urn:lango:problem:validation-error"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    retry_after: int | None = None
    rules: list[str] | None = Field(None, description="stay-not-allowed: the stay rules the request breaks, by name")


def _standard_problems(operation: Operation) -> set[int]:
    statuses = {500, *operation.problems}
    if operation.body is not None:
        statuses |= {400, 413, 415, 422}
    if operation.query is not None:
        statuses.add(422)
    if operation.access is not None:
        statuses |= {401, 403}
    if operation.path_params:
        statuses.add(404)
    return statuses


def build_openapi(operations: list[Operation], *, title: str, version: str, server_url: str) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ProblemDetails, "serialization")]
    for operation in operations:
        models += [(model, "validation") for model in (operation.body, operation.query) if model is not None]
        if operation.response is not None:
            models.append((operation.response, "serialization"))
    keys, schemas = _schemas(tuple(models))

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return keys[(model, mode)]

    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.template, {})[operation.method.lower()] = _operation_object(
            operation, ref, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                **OPENAPI_SECURITY_SCHEMES,
            },
        },
    }


@functools.lru_cache(maxsize=4)
def _schemas(
    models: tuple[tuple[type[BaseModel], JsonSchemaMode], ...],
) -> tuple[dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]], dict[str, Any]]:
    """Each model's reference and the schemas they name. Generating them takes 0.1-0.3 s: a process that builds
    several applications (the tests build hundreds) generates them once. The document is only ever read."""
    keys, definitions = models_json_schema(list(models), ref_template=REF_TEMPLATE)
    return keys, definitions.get("$defs", {})


def _operation_object(operation: Operation, ref: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in operation.path_params
    ]
    if operation.query is not None:
        parameters += _query_parameters(operation.query, ref, schemas)
    document: dict[str, Any] = {
        "operationId": operation.handler.__name__,
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": _responses(operation, ref),
    }
    if operation.description:
        document["description"] = operation.description
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": operation.body_required,
            "content": {"application/json": {"schema": ref(operation.body, "validation")}},
        }
    if operation.access is not None:
        document["security"] = operation.access.openapi_security
        document["description"] = (document.get("description", "") + f"\n\nAccess: {operation.access.description}").strip()
    return document


def _query_parameters(model: type[BaseModel], ref: Any, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = schemas[ref(model, "validation")["$ref"].rsplit("/", 1)[1]]
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": property_schema,
            **({"description": property_schema["description"]} if "description" in property_schema else {}),
        }
        for name, property_schema in schema.get("properties", {}).items()
    ]


def _responses(operation: Operation, ref: Any) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if operation.response is not None:
        responses[str(operation.status)] = {
            "description": HTTPStatus(operation.status).phrase,
            "content": {operation.response_content_type: {"schema": ref(operation.response, "serialization")}},
        }
    else:
        status = operation.status if operation.status != 200 else 204
        responses[str(status)] = {"description": HTTPStatus(status).phrase}
    problem_schema: dict[str, Any] = {"schema": ref(ProblemDetails, "serialization")}
    for status in sorted(_standard_problems(operation)):
        responses[str(status)] = {"description": HTTPStatus(status).phrase, "content": {PROBLEM_CONTENT_TYPE: problem_schema}}
    return responses

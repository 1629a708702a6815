"""Schemathesis against the running gateway: every operation of /openapi.json, signed in, never a 5xx, always as declared."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from documents.api_key import API_KEY_SCOPES, ApiKey
from gateway.http_access import ApiKeyAccess, BearerAccess
from gateway.integrations.api_keys import new_secret, secret_hash, secret_hint
from gateway.routing import Operation
from handlers import ROUTE_GROUPS
from providers.emulators import serve_emulator
from providers.emulators.google_maps import GoogleMapsEmulator
from tests.factories import access_token_for, create_user
from tests.gateway_apps import gateway_app
from tests.properties.builders import listing_body

# Invalid cases must also be refused (negative_data_rejection): what the schema forbids, the gateway must not accept.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
# Operations whose path names only known ids get a pass with ids that exist.
KNOWN_ID_EXAMPLES = 10
MIN_OPERATIONS = 80
# Sockets are not HTTP operations; /dev is the sandbox's own console, absent in production.
SKIPPED_PREFIXES = ("/socket.io", "/dev")
Headers = Callable[[], dict[str, str]]
MAPS_KEY = "fuzzing-maps-key"


@pytest.fixture
async def maps_url() -> AsyncIterator[str]:
    async with serve_emulator(GoogleMapsEmulator(api_key=MAPS_KEY).app()) as base_url:
        yield base_url


@pytest.fixture
def app(mongodb_url: str, redis_url: str, maps_url: str) -> web.Application:
    return gateway_app(mongodb_url, redis_url, maps={"google": {"api_key": MAPS_KEY, "base_url": maps_url}})


def _operations_by_id() -> dict[str, Operation]:
    return {operation.handler.__name__: operation for group in ROUTE_GROUPS for operation in group.operations}


async def _signers(app: web.Application) -> dict[str, Headers]:
    """Per role, a function giving fresh credentials: a case that signs its session out spoils no later case."""
    users = {role: await create_user(app, roles=[role]) for role in ("admin", "agent", "guest", "scanner")}
    secret = new_secret()
    await ApiKey(
        name="fuzzing",
        scopes=list(API_KEY_SCOPES),
        agent_id=str(users["agent"].id),
        secret_hash=secret_hash(secret),
        hint=secret_hint(secret),
        created_by=str(users["admin"].id),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    ).insert()
    signers: dict[str, Headers] = {
        role: (lambda user=user: {"Authorization": f"Bearer {access_token_for(app, user)}"}) for role, user in users.items()
    }
    signers["api_key"] = lambda: {"X-API-Key": secret}
    return signers


def _signer_for(operation: Operation | None, signers: dict[str, Headers]) -> Headers:
    access = operation.access if operation else None
    if isinstance(access, ApiKeyAccess):
        return signers["api_key"]
    if isinstance(access, BearerAccess) and access.roles:
        return signers[sorted(access.roles)[0]]
    return signers["admin"]


async def _known_ids(app: web.Application, base_url: str, signers: dict[str, Headers]) -> dict[str, str]:
    """Things that exist (a listing, a booking, its payment, an API key, an account) so cases get past the 404."""
    check_in = date.today() + timedelta(days=30)
    bystander = await create_user(app, roles=["agent"])
    async with ClientSession(base_url) as http:

        async def created(path: str, body: dict[str, Any], signer: str, **headers: str) -> str:
            async with http.post(path, json=body, headers={**signers[signer](), **headers}) as answer:
                assert answer.status == 201, await answer.text()
                return str((await answer.json())["id"])

        property_id = await created("/v1/properties", listing_body(), "agent")
        async with http.post(f"/v1/properties/{property_id}/publish", headers=signers["agent"]()) as published:
            assert published.status == 200, await published.text()
        stay = {"property_id": property_id, "check_in": str(check_in), "check_out": str(check_in + timedelta(days=2)), "guests": 1}
        booking_id = await created("/v1/bookings", stay, "guest")
        payment = {"purpose": "booking", "target_id": booking_id, "method": "mpesa", "phone": "0712345678"}
        payment_id = await created("/v1/payments", payment, "guest", **{"Idempotency-Key": "fuzzing-payment"})
        async with http.post(
            "/v1/admin/api-keys",
            json={
                "name": "rotated by fuzzing",
                "scopes": ["bookings:read"],
                "agent_id": str(bystander.id),
                "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            },
            headers=signers["admin"](),
        ) as key:
            assert key.status == 201, await key.text()
            key_id = (await key.json())["key"]["id"]
        conversation_id = await created("/v1/conversations", {"booking_id": booking_id}, "guest")
    return {"property_id": property_id, "booking_id": booking_id, "payment_id": payment_id, "key_id": key_id, "user_id": str(bystander.id),
            "conversation_id": conversation_id}  # fmt: skip


def _fuzz(document: dict[str, Any], base_url: str, signers: dict[str, Headers], known: dict[str, str]) -> tuple[int, list[str]]:
    """Runs in a thread: hypothesis drives blocking HTTP calls while the gateway serves on the test's loop."""
    # Closed when done: pooled connections left to the garbage collector warn in whichever later test it runs in.
    with requests.Session() as session:
        return _fuzz_operations(session, document, base_url, signers, known)


def _fuzz_operations(
    session: requests.Session, document: dict[str, Any], base_url: str, signers: dict[str, Headers], known: dict[str, str]
) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_dict(document)
    declared = _operations_by_id()
    failures: list[str] = []
    exercised = 0
    for result in schema.get_all_operations():
        api_operation = result.ok()
        if api_operation.path.startswith(SKIPPED_PREFIXES):
            continue
        exercised += 1
        sign = _signer_for(declared.get(api_operation.definition.raw.get("operationId", "")), signers)
        path_names = {parameter.name for parameter in api_operation.path_parameters}
        passes = [(mode, examples, None) for mode, examples in EXAMPLES.items()]
        if path_names and path_names <= known.keys():
            passes.append((GenerationMode.POSITIVE, KNOWN_ID_EXAMPLES, {name: known[name] for name in path_names}))
        for mode, examples, path_parameters in passes:

            @hypothesis.settings(
                max_examples=examples,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                suppress_health_check=list(hypothesis.HealthCheck),
            )
            @hypothesis.given(case=api_operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
            def call(case: schemathesis.Case) -> None:
                headers = sign()
                response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                call()
            except hypothesis.errors.Unsatisfiable:
                # An operation without inputs has no invalid request to make.
                assert mode is GenerationMode.NEGATIVE, api_operation.label
            except (FailureGroup, AssertionError) as error:
                variant = f"{mode.value}, known ids" if path_parameters else mode.value
                failures.append(f"{api_operation.label} [{variant}]: {str(error)[:1500]}")
    return exercised, failures + _cached_search_failures(session, schema, base_url, signers["guest"])


def _cached_search_failures(
    session: requests.Session, schema: schemathesis.schemas.BaseSchema, base_url: str, sign: Headers
) -> list[str]:
    """The search page served from the cache is stored JSON bytes, not a model: it must match the schema too."""
    search = schema["/v1/properties"]["GET"]
    failures = []
    for expected in ("miss", "hit"):
        case = search.Case(query={"county": "Nairobi", "limit": 5})
        headers = sign()
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        # Schemathesis keeps headers lowercased, each with its list of values.
        served = response.headers.get("x-cache", [None])[0]
        if served != expected:
            failures.append(f"GET /v1/properties: X-Cache {served}, expected {expected}")
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (FailureGroup, AssertionError) as error:
            failures.append(f"GET /v1/properties [cache {expected}]: {str(error)[:1500]}")
    return failures


@pytest.mark.timeout(300)
async def test_every_operation_answers_as_declared_and_never_with_a_5xx(aiohttp_server, app: web.Application) -> None:
    server: TestServer = await aiohttp_server(app)
    base_url = str(server.make_url("")).rstrip("/")
    signers = await _signers(app)
    async with ClientSession() as http, http.get(f"{base_url}/openapi.json") as answer:
        document = await answer.json()
    known = await _known_ids(app, base_url, signers)
    exercised, failures = await asyncio.to_thread(_fuzz, document, base_url, signers, known)
    assert not failures, "\n\n".join(failures)
    assert exercised >= MIN_OPERATIONS, f"only {exercised} operations were fuzzed"

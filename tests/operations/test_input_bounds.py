"""Hostile values get a 422, never a 5xx: times and integers out of range, names that hide what they say, and errors
that quote no more than a short prefix of what was sent."""

import types
import typing
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import annotated_types
import pytest
from aiohttp.test_utils import TestClient
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from gateway.input_guard import INT64_MAX, INT64_MIN
from gateway.input_types import ApiDate, ApiDatetime, DisplayText
from gateway.problems import INPUT_PREFIX_CHARS, INSTANCE_CHARS, ValidationFailed
from gateway.request_models import RequestModel, validate
from gateway.tickets.scanning import SocketTicketScan
from handlers import ROUTE_GROUPS
from tests.factories import DEFAULT_PASSWORD, access_token_for, auth_header, create_user
from tests.properties.builders import listing_body, signed_in
from tests.tickets.builders import door_staff, event_on_sale, scan_body

PROBLEM = "application/problem+json"
# Converting this to UTC overflows Python's datetime: it used to be a 500 wherever a time was taken.
FAR_FUTURE = "9999-12-31T23:59:59-12:00"
BEYOND_INT64 = 2**63
NAMES = {"title", "name", "holder_name", "device"}


async def _refused_fields(response: Any) -> list[str]:
    assert response.status == 422, await response.text()
    problem = await response.json(content_type=PROBLEM)
    assert problem["type"] == "urn:lango:problem:validation-error"
    return [error["field"] for error in problem["errors"]]


def _venue(name: str = "Old Fort", town: str = "Stone Town") -> dict[str, Any]:
    return {"name": name, "address": {"county": "Zanzibar", "town": town},
            "location": {"type": "Point", "coordinates": [39.19, -6.16]}}  # fmt: skip


def _event(**changes: Any) -> dict[str, Any]:
    starts_at = datetime.now(UTC) + timedelta(days=7)
    return {"title": "Sauti za Busara", "venue": _venue(), "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=6)).isoformat(), "capacity": 10, **changes}  # fmt: skip


def _ticket_type(**changes: Any) -> dict[str, Any]:
    return {"name": "Regular", "price_minor": 1_000, "currency": "KES", "quantity": 5,
            "sales_start": datetime.now(UTC).isoformat(), "sales_end": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            **changes}  # fmt: skip


async def test_a_time_far_outside_the_api_range_is_a_422_wherever_a_time_is_taken(client: TestClient) -> None:
    sale = await event_on_sale(client)
    [(_, staff)] = await door_staff(client, sale)
    _, admin = await signed_in(client, "admin")
    agent_id, _ = await signed_in(client, "agent")
    api_key = {"name": "Channel manager", "scopes": ["bookings:read"], "agent_id": agent_id, "expires_at": FAR_FUTURE}

    refused = [
        await _refused_fields(await client.post("/v1/events", headers=sale.host_headers, json=_event(ends_at=FAR_FUTURE))),
        await _refused_fields(await client.post(f"/v1/events/{sale.event_id}/ticket-types", headers=sale.host_headers,
                                                json=_ticket_type(sales_end=FAR_FUTURE))),  # fmt: skip
        await _refused_fields(await client.post(f"/v1/events/{sale.event_id}/scans", headers=staff,
                                                json={**scan_body("secret"), "scanned_at": FAR_FUTURE})),  # fmt: skip
        await _refused_fields(await client.post(f"/v1/events/{sale.event_id}/scans/batch", headers=staff,
                                                json={"scans": [{**scan_body("secret"), "scanned_at": FAR_FUTURE}]})),  # fmt: skip
        await _refused_fields(await client.post("/v1/admin/api-keys", headers=admin, json=api_key)),
        await _refused_fields(await client.post("/v1/events", headers=sale.host_headers,
                                                json=_event(starts_at="0001-01-01T00:00:00+01:00"))),  # fmt: skip
    ]

    assert refused == [
        ["body.ends_at"], ["body.sales_end"], ["body.scanned_at"], ["body.scans.0.scanned_at"], ["body.expires_at"],
        ["body.starts_at"],
    ]  # fmt: skip


async def test_a_date_far_outside_the_api_range_is_a_422(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    _, guest = await signed_in(client, "guest")
    search = await client.get("/v1/properties?check_in=9999-12-30&check_out=9999-12-31", headers=guest)
    blocks = await client.post(f"/v1/properties/{'0' * 24}/blocks", headers=agent, json={"start": "0001-01-01", "end": "0001-01-02"})

    assert await _refused_fields(search) == ["query.check_in", "query.check_out"]
    assert await _refused_fields(blocks) == ["body.start", "body.end"]


async def test_integers_beyond_int64_are_a_422_not_a_database_error(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    for query in ("min_price_minor", "max_price_minor"):
        answer = await client.get(f"/v1/properties?{query}={BEYOND_INT64}", headers=agent)
        assert await _refused_fields(answer) == [f"query.{query}"]
    upload = await client.post("/v1/files/uploads", headers=agent, json={"kind": "photo", "content_type": "image/jpeg", "size": BEYOND_INT64})
    assert await _refused_fields(upload) == ["body.size"]


class _Tally(RequestModel):
    count: int = 0
    tags: dict[str, Any] = {}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"count": INT64_MAX + 1}, "body.count"),
        ({"count": INT64_MIN - 1}, "body.count"),
        ({"tags": {"scores": [1, BEYOND_INT64]}}, "body.tags.scores.1"),
    ],
)
def test_an_integer_without_bounds_of_its_own_still_fits_int64(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate(_Tally, data, location="body")
    assert refused.value.extensions["errors"] == [{"field": field, "message": "integers must fit in 64 bits", "code": "int64_out_of_range"}]
    assert validate(_Tally, {"count": INT64_MAX, "tags": {"low": INT64_MIN}}, location="body")


def _request_models() -> set[type[BaseModel]]:
    models = {model for group in ROUTE_GROUPS for operation in group.operations for model in (operation.body, operation.query) if model}
    return models | {SocketTicketScan}


def _leaves(annotation: Any, metadata: list[Any]) -> Iterator[tuple[Any, list[Any]]]:
    """Each scalar or model type a field can hold, with every constraint that applies to it."""
    metadata = [part for item in metadata for part in (item.metadata if isinstance(item, FieldInfo) else [item])]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _leaves(base, metadata + extra)
    elif origin in (typing.Union, types.UnionType, list, tuple, dict):
        for argument in typing.get_args(annotation):
            yield from _leaves(argument, metadata if origin in (typing.Union, types.UnionType) else [])
    elif argument := typing.get_args(annotation):
        yield from (leaf for each in argument for leaf in _leaves(each, []))
    else:
        yield annotation, metadata


def _fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any, list[Any]]]:
    for name, info in model.model_fields.items():
        for leaf, metadata in _leaves(info.annotation, list(info.metadata)):
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                yield from _fields(leaf, f"{prefix}{name}.")
            else:
                yield f"{model.__name__}.{prefix}{name}", leaf, metadata


def _bounded(metadata: list[Any]) -> bool:
    lower = [item.ge if isinstance(item, annotated_types.Ge) else item.gt for item in metadata if isinstance(item, (annotated_types.Ge, annotated_types.Gt))]
    upper = [item.le if isinstance(item, annotated_types.Le) else item.lt for item in metadata if isinstance(item, (annotated_types.Le, annotated_types.Lt))]
    return bool(lower and upper) and INT64_MIN <= max(lower) and min(upper) <= INT64_MAX


def _carries(metadata: list[Any], shared_type: Any) -> bool:
    return all(marker in metadata for marker in typing.get_args(shared_type)[1:])


def test_every_request_field_is_bounded_and_takes_the_shared_types() -> None:
    unbounded, loose_times, loose_names = [], [], []
    for model in _request_models():
        for field, leaf, metadata in _fields(model):
            if leaf is int and not _bounded(metadata):
                unbounded.append(field)
            if (leaf is datetime and not _carries(metadata, ApiDatetime)) or (leaf is date and not _carries(metadata, ApiDate)):
                loose_times.append(field)
            if leaf is str and field.count(".") == 1 and field.split(".")[1] in NAMES and not _carries(metadata, DisplayText):
                loose_names.append(field)

    assert (unbounded, loose_times, loose_names) == ([], [], [])


async def _named(client: TestClient, text: str) -> dict[str, list[str]]:
    """Every place a name or title shown to others is given, each given `text`: the fields each refused."""
    sale = await event_on_sale(client)
    agent_id, agent = await signed_in(client, "agent")
    admin = await create_user(client.app, roles=("admin",))
    admin_headers = auth_header(access_token_for(client.app, admin))
    order = {"event_id": sale.event_id, "lines": [{"ticket_type_id": sale.ticket_type_id, "quantity": 1}], "holder_name": text}
    attempts = {
        "listing title": await client.post("/v1/properties", headers=agent, json=listing_body(title=f"Flat {text}")),
        "listing town": await client.post("/v1/properties", headers=agent,
                                          json=listing_body(address={"county": "Nairobi", "town": text})),  # fmt: skip
        "event title": await client.post("/v1/events", headers=sale.host_headers, json=_event(title=text)),
        "venue name": await client.post("/v1/events", headers=sale.host_headers, json=_event(venue=_venue(name=text))),
        "ticket type": await client.post(f"/v1/events/{sale.event_id}/ticket-types", headers=sale.host_headers,
                                         json=_ticket_type(name=text)),  # fmt: skip
        "holder": await client.post("/v1/ticket-orders", headers=agent, json=order),
        "device": await client.post("/v1/auth/login", json={"email": admin.email, "password": DEFAULT_PASSWORD,
                                                            "device": text}),  # fmt: skip
        "api key": await client.post("/v1/admin/api-keys", headers=admin_headers, json={
            "name": text, "scopes": ["listings:read"], "agent_id": agent_id,
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}),  # fmt: skip
        "broadcast": await client.post("/v1/admin/broadcasts", headers=admin_headers,
                                       json={"audience": {"kind": "all"}, "title": text, "message": "Karibu"}),  # fmt: skip
    }
    return {
        place: await _refused_fields(answer) if answer.status == 422 else [str(answer.status)]
        for place, answer in attempts.items()
    }


@pytest.mark.parametrize("hidden", ["\x00", "\u202e", "\u2067", "\x1b", "\n", "\u0085"])
async def test_names_and_titles_refuse_control_and_bidi_override_characters(client: TestClient, hidden: str) -> None:
    refused = await _named(client, f"invoice{hidden}gpj.exe")

    assert refused == {
        "listing title": ["body.title"], "listing town": ["body.address.town"], "event title": ["body.title"],
        "venue name": ["body.venue.name"], "ticket type": ["body.name"], "holder": ["body.holder_name"],
        "device": ["body.device"], "api key": ["body.name"], "broadcast": ["body.title"],
    }  # fmt: skip


async def test_names_in_any_script_with_emoji_are_taken(client: TestClient) -> None:
    accepted = await _named(client, "Nyumba ya Bibi – مرحبا 👩‍👩‍👧")

    assert accepted == {
        "listing title": ["201"], "listing town": ["201"], "event title": ["201"], "venue name": ["201"],
        "ticket type": ["201"], "holder": ["201"], "device": ["200"], "api key": ["201"], "broadcast": ["202"],
    }  # fmt: skip


async def test_descriptions_keep_line_breaks_but_refuse_bidi_overrides(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    lines = await client.post("/v1/properties", headers=agent, json=listing_body(description="<p>Quiet.</p>\n\t<p>Sunny.</p>"))
    override = await client.post("/v1/properties", headers=agent, json=listing_body(description="<p>\u202eQuiet</p>"))

    assert lines.status == 201, await lines.text()
    assert await _refused_fields(override) == ["body.description"]


async def test_errors_quote_only_a_short_prefix_of_what_was_sent(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    _, admin = await signed_in(client, "admin")
    flood = "x" * 5_000
    answers = [
        await client.post("/v1/properties", headers=agent, json={**listing_body(), flood: 1}),
        await client.get(f"/v1/{flood}", headers=agent),
        await client.put(f"/v1/admin/users/{'0' * 24}/roles/{flood}", headers=admin),
        await client.post("/v1/properties", headers={**agent, "Content-Type": f"text/{flood}"}, data=b"{}"),
        await client.post("/v1/properties", headers=agent, json=listing_body(title=flood)),
    ]

    assert [answer.status for answer in answers] == [422, 404, 404, 415, 422]
    for answer in answers:
        problem = await answer.json(content_type=PROBLEM)
        # The path is quoted as `instance` up to the length of the longest real one; any other quote is shorter.
        assert len(problem.pop("instance")) <= INSTANCE_CHARS + 1
        assert "x" * (INPUT_PREFIX_CHARS + 1) not in str(problem) and len(str(problem)) < 600, problem

"""MongoDB operator injection is refused at the edge with a 422 naming the field, before any query runs."""

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, ValidationError
from pymongo import AsyncMongoClient

from gateway.app import create_app
from gateway.input_guard import ObjectIdStr, parse_object_id
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.settings import Settings
from gateway.state import SERVICES
from tests.conftest import TEST_DATABASE

PROBLEM = "application/problem+json"
COLLECTION = "injection_targets"


class Login(RequestModel):
    email: str
    password: str


class Search(RequestModel):
    city: str | None = None
    filters: dict[str, Any] = {}
    owner: ObjectIdStr | None = None


class Found(BaseModel):
    count: int


def _routes(calls: list[str]) -> ApiRoutes:
    routes = ApiRoutes(tag="test")

    @routes.post("/test/login", body=Login, response=Found)
    async def login_probe(request: web.Request, body: Login) -> Found:
        calls.append("login")
        collection = request.app[SERVICES].mongo[TEST_DATABASE][COLLECTION]
        return Found(count=await collection.count_documents({"email": body.email, "password": body.password}))

    @routes.post("/test/search", body=Search, response=Found)
    async def search_probe(request: web.Request, body: Search) -> Found:
        calls.append("search")
        collection = request.app[SERVICES].mongo[TEST_DATABASE][COLLECTION]
        return Found(count=await collection.count_documents({**body.filters}))

    @routes.get("/test/things/{thing_id}", response=Found)
    async def thing_probe(request: web.Request) -> Found:
        thing_id = parse_object_id(request.match_info["thing_id"])
        calls.append("thing")
        collection = request.app[SERVICES].mongo[TEST_DATABASE][COLLECTION]
        return Found(count=await collection.count_documents({"_id": thing_id}))

    return routes


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def app(settings: Settings, calls: list[str]) -> web.Application:
    app = create_app(settings)
    _routes(calls).install(app)
    return app


@pytest.fixture
async def client(aiohttp_client, app: web.Application, mongo: AsyncMongoClient) -> TestClient:  # type: ignore[no-untyped-def]
    await mongo[TEST_DATABASE][COLLECTION].insert_one({"email": "amani@example.com", "password": "hash", "price": 10})
    return await aiohttp_client(app)


async def _refused(client: TestClient, path: str, body: Any) -> list[dict[str, str]]:
    response = await client.post(path, json=body)
    assert response.status == 422, await response.text()
    problem = await response.json(content_type=PROBLEM)
    assert problem["type"] == "urn:lango:problem:validation-error"
    return problem["errors"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": {"$gt": ""}, "password": {"$gt": ""}}, "body.email"),
        ({"email": "amani@example.com", "password": {"$ne": None}}, "body.password"),
        ({"email": ["amani@example.com"], "password": "x"}, "body.email"),
        ({"email": "a@b.c", "password": "x", "$where": "this.password.length > 0"}, "body.$where"),
    ],
)
async def test_objects_where_scalars_belong_are_refused(client: TestClient, calls: list[str], body: Any, field: str) -> None:
    errors = await _refused(client, "/test/login", body)
    assert field in {error["field"] for error in errors}
    assert calls == []


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"price": {"$gt": 0}}, "body.filters.price.$gt"),
        ({"email": {"$regex": ".*"}}, "body.filters.email.$regex"),
        ({"$where": "sleep(1000)"}, "body.filters.$where"),
        ({"tags": [{"nested": {"$ne": 1}}]}, "body.filters.tags.0.nested.$ne"),
        ({"owner.role": "admin"}, "body.filters.owner.role"),
    ],
)
async def test_operator_keys_in_free_form_fields_are_refused_with_their_path(
    client: TestClient, calls: list[str], mongo: AsyncMongoClient, filters: dict[str, Any], field: str
) -> None:
    errors = await _refused(client, "/test/search", {"filters": filters})
    assert [error["field"] for error in errors] == [field]
    assert errors[0]["code"] == "operator_key"
    assert calls == []
    assert await mongo[TEST_DATABASE][COLLECTION].count_documents({}) == 1


async def test_plain_filters_still_reach_the_query(client: TestClient) -> None:
    response = await client.post("/test/search", json={"filters": {"price": 10}})
    assert response.status == 200
    assert await response.json() == {"count": 1}


async def test_a_malformed_id_in_the_body_is_a_422(client: TestClient, calls: list[str]) -> None:
    errors = await _refused(client, "/test/search", {"owner": {"$gt": ""}})
    assert errors[0]["field"] == "body.owner"
    errors = await _refused(client, "/test/search", {"owner": "not-an-object-id"})
    assert errors[0]["field"] == "body.owner"
    assert calls == []


@pytest.mark.parametrize("thing_id", ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "%24gt", "0" * 25])
async def test_a_malformed_id_in_the_path_is_a_404_without_a_query(client: TestClient, calls: list[str], thing_id: str) -> None:
    response = await client.get(f"/test/things/{thing_id}")
    assert response.status == 404
    assert (await response.json(content_type=PROBLEM))["type"] == "urn:lango:problem:not-found"
    assert calls == []


async def test_a_well_formed_id_reaches_the_query(client: TestClient, calls: list[str]) -> None:
    response = await client.get("/test/things/5f2b3c4d5e6f7a8b9c0d1e2f")
    assert response.status == 200
    assert calls == ["thing"]


def test_models_refuse_operator_keys_outside_http_too() -> None:
    with pytest.raises(ValidationError) as refused:
        Search.model_validate({"filters": {"a": {"b": {"$in": [1]}}}})
    error = refused.value.errors()[0]
    assert error["type"] == "operator_key"
    assert error["ctx"]["key_path"] == ("a", "b", "$in")

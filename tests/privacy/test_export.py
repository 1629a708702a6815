"""Exports: only their owner (or an admin, audited) gets a link, only once the archive is built; asking is limited."""

from aiohttp.test_utils import TestClient
from yarl import URL

from documents.audit import AuditEvent, AuditKind
from gateway.privacy.export import build_export
from gateway.state import SERVICES
from tests.accounts.helpers import bearer, problem_type, sign_in
from tests.factories import DEFAULT_PASSWORD, access_token_for, auth_header, create_user


async def test_only_the_owner_downloads_an_export_once_built_and_admins_are_audited(client: TestClient) -> None:
    owner = await create_user(client.app, email="wambui@example.com")
    person = bearer(await sign_in(client, "wambui@example.com"))
    stranger = auth_header(access_token_for(client.app, await create_user(client.app)))
    admin = await create_user(client.app, roles=("guest", "admin"))
    asked = await client.post("/v1/me/exports", headers=person, json={"password": DEFAULT_PASSWORD})
    export_id = (await asked.json())["id"]

    early = await client.get(f"/v1/me/exports/{export_id}/download", headers=person)
    await build_export(client.app[SERVICES], export_id)
    by_stranger = await client.get(f"/v1/me/exports/{export_id}/download", headers=stranger)
    by_owner = await client.get(f"/v1/me/exports/{export_id}/download", headers=person)
    by_admin = await client.get(
        f"/v1/admin/privacy-requests/{export_id}/download", headers=auth_header(access_token_for(client.app, admin))
    )
    listed = await (await client.get("/v1/me/exports", headers=person)).json()
    tampered = await client.get(URL((await by_owner.json())["url"].replace("signature=", "signature=0")).path_qs)

    assert early.status == 409 and await problem_type(early) == "export-not-ready"
    assert by_stranger.status == 404 and await problem_type(by_stranger) == "export-not-found"
    assert by_owner.status == 200 and by_admin.status == 200
    assert [item["status"] for item in listed["items"]] == ["ready"]
    assert tampered.status in (400, 403)
    [audited] = await AuditEvent.find({"kind": AuditKind.DATA_EXPORT_DOWNLOADED}).to_list()
    assert audited.user_id == owner.id and audited.actor_id == admin.id


async def test_exports_are_limited_per_account(client: TestClient) -> None:
    await create_user(client.app, email="chebet@example.com")
    person = bearer(await sign_in(client, "chebet@example.com"))
    answers = [await client.post("/v1/me/exports", headers=person) for _ in range(4)]

    assert [answer.status for answer in answers] == [202, 202, 202, 429]
    assert "Retry-After" in answers[-1].headers

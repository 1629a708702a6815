"""Applicants to host as the flow makes them: a confirmed payout phone, an identity document, an application."""

from typing import Any

from aiohttp.test_utils import TestClient

from tests.accounts.helpers import code_sent_to
from tests.properties.builders import signed_in

PDF = b"%PDF-1.7\n" + b"0" * 300


async def identity_document(client: TestClient, headers: dict[str, str]) -> str:
    uploaded = await client.post(
        "/v1/files?kind=document", data=PDF, headers={**headers, "Content-Type": "application/pdf"}
    )
    assert uploaded.status == 201, await uploaded.text()
    return str((await uploaded.json())["id"])


async def confirm_payout_phone(client: TestClient, headers: dict[str, str], phone: str) -> None:
    asked = await client.put("/v1/payouts/destination", json={"phone": phone}, headers=headers)
    assert asked.status == 202, await asked.text()
    code = await code_sent_to(client, "+254" + phone[1:])
    confirmed = await client.post("/v1/payouts/destination/confirm", json={"code": code}, headers=headers)
    assert confirmed.status == 200, await confirmed.text()


async def apply(client: TestClient, headers: dict[str, str], document_id: str) -> Any:
    return await client.post("/v1/me/host-applications", json={"identity_document_id": document_id}, headers=headers)


async def ready_applicant(client: TestClient, phone: str = "0712345678") -> tuple[str, dict[str, str], str]:
    """A guest with a confirmed payout phone and an identity document: their id, headers and the document's id."""
    user_id, headers = await signed_in(client)
    await confirm_payout_phone(client, headers, phone)
    return user_id, headers, await identity_document(client, headers)

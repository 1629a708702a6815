"""The Daraja emulator's Pull Transactions query: the Paybill's incoming payments (STK and C2B) over a span within
the last 48 hours, a page at a time by offset, in Safaricom's shapes."""

import secrets
from datetime import datetime, timedelta, timezone

from aiohttp import web

from providers.emulators.daraja_state import DARAJA_SANDBOX, EAT, bad_request, bearer_body, daraja_error

# Safaricom keeps pullable transactions for 48 hours.
PULL_WINDOW = timedelta(hours=48)
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_INCOMING = ("stk", "paybill")


def _pull_date(value: object) -> datetime | None:
    try:
        return datetime.strptime(str(value), _DATE_FORMAT).replace(tzinfo=EAT)
    except ValueError:
        return None


async def query_transactions(request: web.Request) -> web.Response:
    """POST /pulltransactions/v1/query: ShortCode, StartDate and EndDate (EAT, `YYYY-MM-DD HH:MM:SS`), OffSetValue."""
    body = await bearer_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    if str(body.get("ShortCode", "")) != sandbox.settings.shortcode:
        return bad_request("ShortCode")
    start, end = _pull_date(body.get("StartDate")), _pull_date(body.get("EndDate"))
    if start is None:
        return bad_request("StartDate")
    if end is None or end < start:
        return bad_request("EndDate")
    if start < datetime.now(EAT) - PULL_WINDOW:
        return daraja_error(400, "400.002.02", "Bad Request - StartDate is beyond the 48 hour pull window")
    offset = str(body.get("OffSetValue", ""))
    if not offset.isdigit():
        return bad_request("OffSetValue")
    incoming = sorted(
        (t for t in sandbox.transactions.values() if t.kind in _INCOMING and start <= t.completed_at <= end),
        key=lambda t: t.completed_at,
    )
    page = incoming[int(offset) : int(offset) + sandbox.settings.pull_page_size]
    records = [
        {
            "transactionId": t.receipt,
            "trxDate": t.completed_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "msisdn": int(t.msisdn),
            "sender": "UAT2",
            "transactiontype": "c2b-pay-bill-debit",
            "billreference": t.account_reference,
            "amount": str(t.amount),
            "organizationname": "Lango Sandbox Paybill",
        }
        for t in page
    ]
    return web.json_response(
        {
            "ResponseRefID": secrets.token_hex(16),
            "ResponseCode": "1000",
            "ResponseMessage": "Success",
            "Response": [records],
        }
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/pulltransactions/v1/query", query_transactions)

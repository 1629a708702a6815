"""Ledger routes: a host's own earnings; admins read entries and balances and post adjustments (their inputs here)."""

from typing import Annotated

from aiohttp import web
from pydantic import Field, model_validator

from documents.ledger_entry import LedgerKind, LedgerLine, imbalance
from gateway.http_access import AUTHENTICATED, roles
from gateway.input_types import ProseText
from gateway.ledger.accounts import ACCOUNT_NAME
from gateway.ledger.adjustments import post_adjustment
from gateway.ledger.reading import balances_page, entries_page
from gateway.ledger.views import EarningsView, LedgerBalancePage, LedgerEntryPage, LedgerEntryView
from gateway.payouts.holdback import earnings_now
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes, created_response, required_idempotency_key
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="ledger")
ADMINS = roles("admin")
CURSOR = Annotated[str, Field(max_length=64, description="`next_cursor` of the previous page")]


# Far beyond any real correction, and far inside int64 once summed.
MAX_ADJUSTMENT_MINOR = 10**12


class AdjustmentLine(RequestModel):
    account: Annotated[str, Field(max_length=120, pattern=ACCOUNT_NAME.pattern, description="e.g. suspense, host_payable:<user id>, cash:mpesa")]
    currency: Annotated[str, Field(max_length=3, pattern=r"^[A-Z]{3}$")]
    amount_minor: Annotated[int, Field(ge=-MAX_ADJUSTMENT_MINOR, le=MAX_ADJUSTMENT_MINOR, description="a debit positive, a credit negative")]


class AdjustmentRequest(RequestModel):
    reason: Annotated[ProseText, Field(min_length=5, max_length=500)]
    lines: Annotated[list[AdjustmentLine], Field(min_length=2, max_length=10)]

    @model_validator(mode="after")
    def _balanced(self) -> "AdjustmentRequest":
        lines = [LedgerLine(**line.model_dump()) for line in self.lines]
        if unbalanced := imbalance(lines):
            raise ValueError(f"the lines must net to zero in each currency; they net to {unbalanced}")
        if not any(line.amount_minor for line in lines):
            raise ValueError("the lines move no money")
        return self


class EntriesQuery(RequestModel):
    account: Annotated[str, Field(max_length=120, pattern=r"^[a-z_]+(:[a-z0-9_]+)?$")] | None = None
    kind: LedgerKind | None = None
    payment_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = None
    cursor: CURSOR | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class BalancesQuery(RequestModel):
    account_prefix: Annotated[str, Field(max_length=120, pattern=r"^[a-z_]+(:[a-z0-9_]*)?$")] | None = None
    cursor: CURSOR | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


@routes.get(
    "/v1/me/earnings",
    response=EarningsView,
    access=AUTHENTICATED,
    problems=(401,),
    description="Per currency, in minor units: what guests and buyers paid for the caller's stays and tickets, the "
    "platform's commission, the caller's share of refunds, what was earned and paid out, and what is owed split into "
    "still held back after check-in or the event (pending), payable by the next payout, and on its way in a payout. "
    "Read from the ledger's balances (docs/ledger.md); a user who never sold anything gets an empty list.",
)
async def my_earnings(request: web.Request, caller: Caller) -> EarningsView:
    """The caller's earnings as a host or agent"""
    services = request.app[SERVICES]
    return await earnings_now(services, caller, services.clock())


@routes.get(
    "/v1/admin/ledger/entries",
    query=EntriesQuery,
    response=LedgerEntryPage,
    access=ADMINS,
    problems=(400, 401, 403, 422),
    description="Newest first; filter by an account (`host_payable:<user id>`, `cash:mpesa`, `platform_revenue`, ...), "
    "a kind, or the payment that caused them.",
)
async def ledger_entries(request: web.Request, caller: Caller, query: EntriesQuery) -> LedgerEntryPage:
    """The ledger's entries"""
    return await entries_page(caller, query.account, query.kind, query.payment_id, query.cursor, query.limit)


@routes.get(
    "/v1/admin/ledger/balances",
    query=BalancesQuery,
    response=LedgerBalancePage,
    access=ADMINS,
    problems=(400, 401, 403, 422),
    description="Each account's balance per currency, the most recently opened account first; `account_prefix` "
    "narrows them (`host_payable:`, `cash:`).",
)
async def ledger_balances(request: web.Request, caller: Caller, query: BalancesQuery) -> LedgerBalancePage:
    """The ledger's account balances"""
    return await balances_page(caller, query.account_prefix, query.cursor, query.limit)


@routes.post(
    "/v1/admin/ledger/adjustments",
    body=AdjustmentRequest,
    response=LedgerEntryView,
    status=201,
    access=ADMINS,
    problems=(400, 401, 403, 422),
    description="A manual correction, posted as a new balanced entry with its reason and the admin's id; entries are "
    "never edited. The Idempotency-Key header is required: the same key and body answer the same entry (200, "
    "Idempotent-Replayed), the same key with another body is refused (422).",
)
async def post_ledger_adjustment(request: web.Request, caller: Caller, body: AdjustmentRequest) -> web.Response:
    """Post an adjustment"""
    key = required_idempotency_key(request, "so a retried adjustment is never posted twice")
    lines = [(line.account, line.currency, line.amount_minor) for line in body.lines]
    entry, created = await post_adjustment(request.app[SERVICES], caller, lines, body.reason, key)
    return created_response(LedgerEntryView.of(entry), created)

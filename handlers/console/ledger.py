"""Admins read the ledger at the console: each account's balances and the entries newest first, filtered and paged as
GET /v1/admin/ledger/balances and /entries answer them."""

from aiohttp import web

from documents.ledger_entry import LedgerKind
from gateway.ledger.reading import balances_page, entries_page
from gateway.ledger.views import LedgerBalanceView, LedgerEntryView
from gateway.problems import Problem
from gateway.request_models import validate
from handlers.console.session import console_page, render_for, signed_in
from handlers.ledger import ADMINS, BalancesQuery, EntriesQuery

routes = web.RouteTableDef()
LEDGER = "/console/ledger"
PAGE_SIZE = 50


def _filters(request: web.Request, names: tuple[str, ...]) -> dict[str, str]:
    """The filter form's fields that were filled in: an empty field means no filter."""
    return {name: request.query[name].strip() for name in names if request.query.get(name, "").strip()}


@routes.get(LEDGER)
@console_page
async def ledger_balances(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    chosen = _filters(request, ("account_prefix",))
    balances: list[LedgerBalanceView] = []
    next_cursor, problem = None, None
    try:
        query = validate(
            BalancesQuery, {**chosen, **_filters(request, ("cursor",)), "limit": PAGE_SIZE}, location="query"
        )
        page = await balances_page(at.caller, query.account_prefix, query.cursor, query.limit)  # type: ignore[attr-defined]
        balances, next_cursor = page.items, page.next_cursor
    except Problem as refused:
        problem = refused
    return await render_for(
        request,
        at,
        "ledger_balances.html",
        status=problem.status if problem else 200,
        balances=balances,
        next_cursor=next_cursor,
        problem=problem,
        chosen=chosen,
    )


@routes.get(LEDGER + "/entries")
@console_page
async def ledger_entries(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    chosen = _filters(request, ("account", "kind", "payment_id"))
    entries: list[LedgerEntryView] = []
    next_cursor, problem = None, None
    try:
        query = validate(
            EntriesQuery, {**chosen, **_filters(request, ("cursor",)), "limit": PAGE_SIZE}, location="query"
        )
        page = await entries_page(at.caller, query.account, query.kind, query.payment_id, query.cursor, query.limit)  # type: ignore[attr-defined]
        entries, next_cursor = page.items, page.next_cursor
    except Problem as refused:
        problem = refused
    return await render_for(
        request, at, "ledger_entries.html", status=problem.status if problem else 200, entries=entries, next_cursor=next_cursor, problem=problem, chosen=chosen,
        kinds=[kind.value for kind in LedgerKind],
    )  # fmt: skip

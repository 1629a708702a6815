"""Hosts and agents see their earnings at the console (earned, pending, paid out, as GET /v1/me/earnings answers) and
where their payouts go, as GET /v1/payouts/destination does."""

from datetime import timedelta

from aiohttp import web

from documents.payout_destination import PayoutDestination
from gateway.ledger.reading import earnings_of
from gateway.payouts.destinations import DestinationView
from gateway.state import SERVICES
from handlers.console.session import console_page, render_for, signed_in
from handlers.properties import AGENT

routes = web.RouteTableDef()


@routes.get("/console/earnings")
@console_page
async def earnings(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, AGENT)
    services = request.app[SERVICES]
    found = await PayoutDestination.of(at.caller.user_id)
    # A phone confirmed moments ago is not paid to at once (someone who took over the account may have set it).
    paid_from = (
        found.confirmed_at + timedelta(seconds=services.settings.payouts.new_destination_hold_s) if found else None
    )
    return await render_for(
        request, at, "earnings.html", earnings=(await earnings_of(at.caller)).currencies,
        destination=DestinationView.of(found) if found else None, paid_from=paid_from if paid_from and paid_from > services.clock() else None,
        min_payout_minor=services.settings.payouts.min_amount_minor, holdback_hours=services.settings.payouts.holdback_s // 3600,
    )  # fmt: skip

"""The web console at /console: server-rendered pages for admins and hosts over the API's own domain functions."""

from pathlib import Path

from aiohttp import web

from gateway.settings import Settings
from handlers.console import (
    api_keys,
    audit,
    bookings,
    broadcasts,
    calendar,
    earnings,
    events,
    home,
    jobs,
    ledger,
    listings,
    paybill,
    payments,
    payouts,
    reconciliation,
    refunds,
    signin,
    users,
)
from handlers.console.pages import Pages
from handlers.console.session import PAGES
from handlers.web_apps import read_web_app, serve_files

CONSOLE_FOLDER = "console"
ROUTE_TABLES = (signin.routes, home.routes, users.routes, audit.routes, api_keys.routes, broadcasts.routes, jobs.routes, payments.routes, listings.routes, calendar.routes, bookings.routes, events.routes)
ROUTE_TABLES += (ledger.routes, payouts.routes, paybill.routes, refunds.routes, earnings.routes)
ROUTE_TABLES += (reconciliation.routes,)


def install_console(app: web.Application, settings: Settings) -> None:
    """The console's pages and, under /console/static/, its stylesheet and scripts; pages, not API operations."""
    folder = Path(settings.server.web_root) / CONSOLE_FOLDER
    app[PAGES] = Pages.read(folder)
    for table in ROUTE_TABLES:
        app.router.add_routes(table)
    app.router.add_get("/console/static/{path:.+}", serve_files(read_web_app(folder / "static")), name="console_static")

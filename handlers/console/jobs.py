"""Admins read the job queue's health at the console: its workers, jobs waiting, running and scheduled, and the most
recent jobs with their errors."""

from aiohttp import web

from gateway.jobs import queue_health
from gateway.state import SERVICES
from handlers.admin_accounts import ADMINS
from handlers.console.session import console_page, render_for, signed_in

routes = web.RouteTableDef()


@routes.get("/console/jobs")
@console_page
async def jobs(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    health = await queue_health(request.app[SERVICES].queue)
    return await render_for(request, at, "jobs.html", health=health)

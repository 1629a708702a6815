"""The console's first page: what the signed-in account may do here, by its roles."""

from aiohttp import web

from handlers.console.session import CONSOLE_PATH, console_page, render_for, signed_in

routes = web.RouteTableDef()


@routes.get(CONSOLE_PATH)
@console_page
async def home(request: web.Request) -> web.StreamResponse:
    return await render_for(request, await signed_in(request), "home.html")

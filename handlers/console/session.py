"""Who is at the console: the session cookie, the form token every state-changing request must carry, the caller.

The cookie holds only a random reference to a server-side record (gateway.accounts.console_sessions); it is HttpOnly,
SameSite=Strict, scoped to /console, and Secure when the gateway is reached over HTTPS. Every POST must carry the
record's form token (a synchronizer token: in a hidden field, or the X-CSRF-Token header for the page's script),
compared in constant time; a cross-site page can neither read it nor make the browser send the cookie.
"""

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

from gateway.accounts import console_sessions
from gateway.accounts.console_sessions import ConsoleSession
from gateway.accounts.context import signed_in_user
from gateway.http_access import AUTHENTICATED, BearerAccess, caller_of_access_token
from gateway.problems import Forbidden, Problem, Unauthenticated
from gateway.security.callers import Caller
from gateway.state import SERVICES
from handlers.auth_inputs import device_of
from handlers.console.pages import Pages

SESSION_COOKIE = "lango_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CONSOLE_PATH = "/console"
SIGN_IN_PATH = "/console/sign-in"
PAGES: web.AppKey[Pages] = web.AppKey("console_pages", Pages)


class FormTokenInvalid(Forbidden):
    slug, title = "form-token-invalid", "This form has expired: load the page again"


@dataclass(frozen=True)
class Visitor:
    """A browser at the console: its session reference and record (signed in or not)."""

    reference: str
    session: ConsoleSession


@dataclass(frozen=True)
class SignedIn(Visitor):
    """A signed-in visitor and the caller its access token speaks for, as the API would resolve it."""

    caller: Caller


def is_https(request: web.Request) -> bool:
    return request.secure or request.app[SERVICES].settings.server.public_url.startswith("https://")


def set_session_cookie(request: web.Request, response: web.StreamResponse, reference: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, reference, path=CONSOLE_PATH, httponly=True, samesite="Strict", secure=is_https(request)
    )


async def visitor(request: web.Request) -> tuple[Visitor, bool]:
    """The visitor's session, or a new anonymous one (True: its cookie must be set on the answer)."""
    services = request.app[SERVICES]
    reference = request.cookies.get(SESSION_COOKIE)
    found = await console_sessions.find(services, reference)
    if reference and found is not None:
        return Visitor(reference, found), False
    # Each new visitor costs a record in Redis: a client may open only so many.
    await services.limits.hit("console_visits_per_address", request.remote or "unknown")
    reference, session = await console_sessions.open_anonymous(services)
    return Visitor(reference, session), True


async def check_form_token(request: web.Request, session: ConsoleSession) -> dict[str, str]:
    """The posted form's fields, once its form token matches the session's; 403 otherwise."""
    form = await request.post()
    presented = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD, ""))
    if not hmac.compare_digest(presented.encode(), session.csrf.encode()):
        raise FormTokenInvalid()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def signed_in(request: web.Request, access: BearerAccess = AUTHENTICATED) -> SignedIn:
    """The signed-in visitor with the roles `access` names, resolved exactly as the API resolves a bearer token;
    Unauthenticated when there is no signed-in session (the page then sends the visitor to sign in)."""
    services = request.app[SERVICES]
    reference = request.cookies.get(SESSION_COOKIE)
    session = await console_sessions.find(services, reference)
    if reference is None or session is None or not session.signed_in:
        raise Unauthenticated("sign in to the console")
    session = await console_sessions.fresh(services, reference, session, device_of(request))
    caller = await caller_of_access_token(services, session.access_token or "")
    return SignedIn(reference, session, access.admit(caller))


def see_other(location: str) -> web.Response:
    """After a form's POST, the page to GET next."""
    return web.Response(status=303, headers={hdrs.LOCATION: location})


Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_page(handler: Page) -> Page:
    """A console route: a visitor who is not signed in is sent to sign in, any other refusal is shown as a page."""

    async def page(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Unauthenticated:
            response = see_other(SIGN_IN_PATH)
            response.del_cookie(SESSION_COOKIE, path=CONSOLE_PATH)
            return response
        except Problem as problem:
            return request.app[PAGES].render(
                request, "problem.html", status=problem.status, problem=problem, user=None, roles=frozenset(), csrf=""
            )

    return page


async def render_for(request: web.Request, at: SignedIn, template: str, *, status: int = 200, **context: object) -> web.Response:
    """A page for a signed-in visitor: the layout's account menu, navigation by role, and the form token."""
    user = await signed_in_user(at.caller)
    return request.app[PAGES].render(
        request, template, status=status, user=user, roles=at.caller.roles, csrf=at.session.csrf, **context
    )

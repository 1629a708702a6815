"""Signing in to the console and out of it: the API's own sign-in steps (password, then two-factor), the session kept
server-side, and the language switch."""

from aiohttp import web

from gateway.accounts import console_sessions, sessions, signin
from gateway.problems import Problem
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.auth import SecondFactor, SignIn
from handlers.auth_inputs import device_of
from handlers.console.pages import LANGUAGE_COOKIE, LANGUAGES
from handlers.console.session import (
    CONSOLE_PATH,
    PAGES,
    SESSION_COOKIE,
    SIGN_IN_PATH,
    Visitor,
    check_form_token,
    console_page,
    is_https,
    see_other,
    set_session_cookie,
    signed_in,
    visitor,
)

routes = web.RouteTableDef()
SECOND_FACTOR_PATH = "/console/sign-in/code"
# The API's device token, kept where script cannot read it: later sign-ins from this browser count as a known device's.
DEVICE_COOKIE = "lango_console_device"
DEVICE_COOKIE_MAX_AGE_S = 365 * 86_400


def _sign_in_page(request: web.Request, found: Visitor, template: str, *, status: int = 200, **context: object) -> web.Response:
    return request.app[PAGES].render(
        request, template, status=status, user=None, roles=frozenset(), csrf=found.session.csrf, **context
    )


@routes.get(SIGN_IN_PATH)
@console_page
async def sign_in_form(request: web.Request) -> web.StreamResponse:
    found, new = await visitor(request)
    if found.session.signed_in:
        return see_other(CONSOLE_PATH)
    response = _sign_in_page(request, found, "sign_in.html", problem=None, identifier="")
    if new:
        set_session_cookie(request, response, found.reference)
    return response


@routes.post(SIGN_IN_PATH)
@console_page
async def sign_in(request: web.Request) -> web.StreamResponse:
    found, new = await visitor(request)
    if new:
        # No session yet, so no form token to match: show the form again with one.
        response = _sign_in_page(request, found, "sign_in.html", status=403, problem=None, identifier="")
        set_session_cookie(request, response, found.reference)
        return response
    form = await check_form_token(request, found.session)
    identifier = form.get("identifier", "").strip()
    try:
        login = validate(SignIn, {
            ("email" if "@" in identifier else "phone"): identifier,
            "password": form.get("password", ""),
            "device_token": request.cookies.get(DEVICE_COOKIE),
        }, location="body")  # fmt: skip
        services = request.app[SERVICES]
        outcome = await signin.sign_in(
            services, email=login.email, phone=login.phone, password=login.password,  # type: ignore[attr-defined]
            device=device_of(request, "Lango console"), device_token=login.device_token,  # type: ignore[attr-defined]
        )  # fmt: skip
    except Problem as problem:
        return _sign_in_page(request, found, "sign_in.html", status=problem.status, problem=problem, identifier=identifier)
    if outcome.status == "mfa_required":
        await console_sessions.await_second_factor(services, found.reference, found.session, outcome.challenge or "")
        return see_other(SECOND_FACTOR_PATH)
    if outcome.status == "mfa_enrolment_required":
        return _sign_in_page(request, found, "enrol_first.html")
    assert outcome.tokens is not None
    return await _signed_in(request, found, outcome.tokens, outcome.device_token)


async def _signed_in(request: web.Request, found: Visitor, tokens: sessions.TokenPair, device_token: str | None) -> web.Response:
    reference, _ = await console_sessions.sign_in(request.app[SERVICES], found.reference, tokens)
    response = see_other(CONSOLE_PATH)
    set_session_cookie(request, response, reference)
    if device_token:
        response.set_cookie(
            DEVICE_COOKIE, device_token, path=CONSOLE_PATH, httponly=True, samesite="Strict",
            secure=is_https(request), max_age=DEVICE_COOKIE_MAX_AGE_S,
        )  # fmt: skip
    return response


@routes.get(SECOND_FACTOR_PATH)
@console_page
async def second_factor_form(request: web.Request) -> web.StreamResponse:
    found, _ = await visitor(request)
    if found.session.mfa_token is None:
        return see_other(SIGN_IN_PATH)
    return _sign_in_page(request, found, "second_factor.html", problem=None)


@routes.post(SECOND_FACTOR_PATH)
@console_page
async def second_factor(request: web.Request) -> web.StreamResponse:
    found, _ = await visitor(request)
    form = await check_form_token(request, found.session)
    if found.session.mfa_token is None:
        return see_other(SIGN_IN_PATH)
    code = form.get("code", "").replace(" ", "")
    # Six digits are the authenticator's code; anything else is read as one of the backup codes.
    factor = {"code": code} if code.isdigit() and len(code) == 6 else {"backup_code": code}
    try:
        step = validate(SecondFactor, {"mfa_token": found.session.mfa_token, **factor}, location="body")
        user, tokens, device_token = await signin.complete_mfa(
            request.app[SERVICES], mfa_token=step.mfa_token, code=step.code, backup_code=step.backup_code,  # type: ignore[attr-defined]
            device=device_of(request, "Lango console"),
        )  # fmt: skip
    except Problem as problem:
        return _sign_in_page(request, found, "second_factor.html", status=problem.status, problem=problem)
    return await _signed_in(request, found, tokens, device_token)


@routes.post("/console/sign-out")
@console_page
async def sign_out(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request)
    await check_form_token(request, at.session)
    services = request.app[SERVICES]
    await sessions.revoke_session(services, at.caller.user_id, at.caller.session_id, because="signed_out")
    await console_sessions.end(services, at.reference)
    response = see_other(SIGN_IN_PATH)
    response.del_cookie(SESSION_COOKIE, path=CONSOLE_PATH)
    return response


@routes.post("/console/language")
@console_page
async def choose_language(request: web.Request) -> web.StreamResponse:
    found, _ = await visitor(request)
    form = await check_form_token(request, found.session)
    language = form.get("language", "")
    back = form.get("back", CONSOLE_PATH)
    # Only a console page is a place to go back to: never another site.
    response = see_other(back if back.startswith(CONSOLE_PATH + "/") or back == CONSOLE_PATH else CONSOLE_PATH)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, path=CONSOLE_PATH, samesite="Strict", max_age=DEVICE_COOKIE_MAX_AGE_S)
    return response

"""The header and claims of a signed JWT whose signature was checked already, read and checked as PyJWT checks them.

PyJWT 2.15 checks every character of each segment in Python before decoding it: about 45 us a token on this
project's 2-core machine, a tenth of a socket's connect. Here the segments are decoded by the base64 and orjson C
code (about 5 us); tests/accounts/test_claims.py holds these verdicts to PyJWT's on generated tokens, and tokens
are still made by PyJWT."""

import binascii
import time
from typing import Any

import orjson

from gateway.crypto.encoding import from_b64url


class ClaimsRefused(Exception):
    """The token is malformed or its claims do not hold; the message says which."""


class ClaimsExpired(ClaimsRefused):
    """The token's time is up."""


def read_claims(token: str, *, issuer: str, required: tuple[str, ...], leeway_s: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of `token`: its issuer and audience are `issuer`, every claim in `required` is present and
    not null, and iat, nbf and exp hold now, give or take `leeway_s`."""
    segments = token.split(".")
    if len(segments) != 3:
        raise ClaimsRefused("not enough segments" if len(segments) < 3 else "too many segments")
    header, claims = _object(segments[0], "header"), _object(segments[1], "payload")
    for claim in required:
        if claims.get(claim) is None:
            raise ClaimsRefused(f'token is missing the "{claim}" claim')
    now = time.time()
    if "iat" in claims and _whole(claims, "iat") > now + leeway_s:
        raise ClaimsRefused("the token is not yet valid (iat)")
    if "nbf" in claims and _whole(claims, "nbf") > now + leeway_s:
        raise ClaimsRefused("the token is not yet valid (nbf)")
    if "exp" in claims and _whole(claims, "exp") <= now - leeway_s:
        raise ClaimsExpired("signature has expired")
    if claims.get("iss") != issuer:
        raise ClaimsRefused("invalid issuer")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not all(isinstance(name, str) for name in audiences):
        raise ClaimsRefused("invalid audience")
    if issuer not in audiences:
        raise ClaimsRefused("audience doesn't match")
    for claim in ("sub", "jti"):
        if claim in claims and not isinstance(claims[claim], str):
            raise ClaimsRefused(f"{claim} must be a string")
    return header, claims


def _object(segment: str, name: str) -> dict[str, Any]:
    try:
        value = orjson.loads(from_b64url(segment))
    except (ValueError, binascii.Error):
        raise ClaimsRefused(f"invalid {name} segment") from None
    if not isinstance(value, dict):
        raise ClaimsRefused(f"invalid {name} string: must be a json object")
    return value


def _whole(claims: dict[str, Any], claim: str) -> int:
    value = claims[claim]
    # Numbers only (PyJWT also takes a numeric string): Lango's tokens carry seconds as JSON numbers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClaimsRefused(f"the {claim} claim must be a number")
    try:
        return int(value)
    except (OverflowError, ValueError):  # infinity, NaN
        raise ClaimsRefused(f"the {claim} claim must be a number") from None

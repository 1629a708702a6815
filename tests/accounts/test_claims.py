"""Lango's claims check gives PyJWT's verdict on every token it is shown: accepted, expired, or refused."""

import time
from typing import Any

import hypothesis
import jwt
import pytest
from hypothesis import strategies as st

from gateway.crypto.signing_keys import ephemeral_key_ring
from gateway.security.claims import ClaimsExpired, ClaimsRefused, read_claims

ISSUER = "lango"
LEEWAY_S = 10
REQUIRED = ("exp", "iat", "iss", "aud", "use", "sub")
KEYS = ephemeral_key_ring()
# Seconds from now, two or more away from every bound the leeway draws: the two checks read the clock apart.
OFFSETS = st.sampled_from([-86_400, -30, -12, -8, 0, 8, 12, 30, 86_400])
ABSENT = object()


def seconds() -> st.SearchStrategy[Any]:
    return st.one_of(OFFSETS.map(lambda offset: int(time.time()) + offset),
                     OFFSETS.map(lambda offset: time.time() + offset + 0.5), st.none(), st.just(ABSENT))  # fmt: skip


def names() -> st.SearchStrategy[Any]:
    text = st.sampled_from([ISSUER, "lango-staging", ""])
    return st.one_of(text, st.lists(st.one_of(text, st.integers(0, 3)), max_size=3), st.integers(), st.none(), st.just(ABSENT))


mutations = st.fixed_dictionaries({}, optional={
    "exp": seconds(), "iat": seconds(), "nbf": seconds(), "iss": names(), "aud": names(),
    "use": st.sampled_from([None, ABSENT]),
    "sub": st.one_of(st.just(""), st.integers(), st.none(), st.just(ABSENT)),
    "jti": st.one_of(st.just("j1"), st.integers()),
})  # fmt: skip


@st.composite
def claim_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A valid claim set with none, one or two claims changed: every verdict is drawn often."""
    now = int(time.time())
    valid = {"exp": now + 900, "iat": now, "iss": ISSUER, "aud": ISSUER, "use": "access", "sub": "u1"}
    changed = draw(mutations)
    if len(changed) > 2:
        changed = dict(list(changed.items())[:2])
    return {**valid, **changed}


def pyjwt_verdict(token: str) -> str:
    try:
        jwt.decode_complete(
            token,
            # PyJWT's every check, the signature's aside (Lango checks that before reading any claim).
            options={"verify_signature": False, "verify_exp": True, "verify_nbf": True, "verify_iat": True,
                     "verify_aud": True, "verify_iss": True, "verify_sub": True, "verify_jti": True,
                     "require": list(REQUIRED)},  # fmt: skip
            issuer=ISSUER,
            audience=ISSUER,
            leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError:
        return "expired"
    except jwt.PyJWTError:
        return "refused"
    return "accepted"


def lango_verdict(token: str) -> str:
    try:
        read_claims(token, issuer=ISSUER, required=REQUIRED, leeway_s=LEEWAY_S)
    except ClaimsExpired:
        return "expired"
    except ClaimsRefused:
        return "refused"
    return "accepted"


@hypothesis.settings(max_examples=400, deadline=None, database=None, derandomize=True)
@hypothesis.given(claim_sets())
def test_every_token_gets_pyjwts_verdict(claims: dict[str, Any]) -> None:
    payload = {name: value for name, value in claims.items() if value is not ABSENT}
    try:
        token = jwt.encode(payload, KEYS.signing_key, algorithm="EdDSA", headers={"kid": KEYS.signing_kid})
    except TypeError:  # PyJWT will not sign it (an issuer that is not a string): no such token exists
        hypothesis.reject()
    assert lango_verdict(token) == pyjwt_verdict(token), payload


@pytest.mark.parametrize("value", ["9999999999", True, float("nan")])
def test_times_are_numbers(value: Any) -> None:
    # PyJWT takes a numeric string (and reads true as 1 s after 1970); Lango's tokens carry numbers only.
    header = jwt.utils.base64url_encode(b'{"alg":"EdDSA"}').decode()
    claims = {"exp": value, "iat": int(time.time()), "iss": ISSUER, "aud": ISSUER, "use": "access", "sub": "u1"}
    body = jwt.utils.base64url_encode(jwt.api_jwt.json.dumps(claims).encode()).decode()
    with pytest.raises(ClaimsRefused):
        read_claims(f"{header}.{body}.c2ln", issuer=ISSUER, required=REQUIRED, leeway_s=LEEWAY_S)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "e30.bm90IGpzb24.c2ln", "W10.e30.c2ln"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(ClaimsRefused):
        read_claims(token, issuer=ISSUER, required=REQUIRED, leeway_s=LEEWAY_S)

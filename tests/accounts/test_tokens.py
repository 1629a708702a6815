"""Access tokens: signed with the newest key, verified by any key not retired, refused when expired or forged."""

import asyncio
import json
from datetime import timedelta

import jwt
import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from gateway.app import create_app
from gateway.crypto.encoding import b64url, from_b64url
from gateway.crypto.signing_keys import KeyRingError, new_signing_key, parse_key_ring
from gateway.security.signature_checks import SignatureChecks
from gateway.security.tokens import TokenExpired, TokenInvalid, TokenService
from gateway.state import SERVICES
from tests.factories import access_token_for, auth_header, create_user


def _service(keys: dict, *, ttl: timedelta = timedelta(minutes=15)) -> TokenService:
    return TokenService(parse_key_ring(json.dumps(keys)), issuer="lango", access_ttl=ttl, challenge_ttl=timedelta(minutes=5))


def test_access_token_round_trips_its_claims() -> None:
    tokens = _service({"keys": [new_signing_key()]})
    claims = tokens.verify_access(tokens.issue_access("u1", ["agent", "guest", "agent"], "s1"))
    assert (claims.user_id, claims.roles, claims.session_id) == ("u1", frozenset({"agent", "guest"}), "s1")
    assert claims.expires_at.tzinfo is not None


def test_expired_access_token_raises_token_expired() -> None:
    key = new_signing_key()
    expired = _service({"keys": [key]}, ttl=timedelta(minutes=-5)).issue_access("u1", ["guest"], "s1")
    with pytest.raises(TokenExpired):
        _service({"keys": [key]}).verify_access(expired)


def test_older_key_verifies_until_retired() -> None:
    old, new = new_signing_key(), new_signing_key()
    minted_with_old = _service({"keys": [old]}).issue_access("u1", ["guest"], "s1")
    rotated = _service({"keys": [new, old]})
    assert rotated.verify_access(minted_with_old).user_id == "u1"
    assert [key["kid"] for key in rotated.jwks()["keys"]] == [new["kid"], old["kid"]]
    retired = _service({"keys": [new, old], "retired": [old["kid"]]})
    with pytest.raises(TokenInvalid):
        retired.verify_access(minted_with_old)
    assert [key["kid"] for key in retired.jwks()["keys"]] == [new["kid"]]


def test_unknown_kid_forged_signature_and_challenge_tokens_are_refused() -> None:
    tokens = _service({"keys": [new_signing_key()]})
    stranger = _service({"keys": [new_signing_key()]})
    with pytest.raises(TokenInvalid):
        tokens.verify_access(stranger.issue_access("u1", ["admin"], "s1"))
    with pytest.raises(TokenInvalid):
        tokens.verify_access(tokens.issue_challenge("u1", "mfa"))
    with pytest.raises(TokenInvalid):
        tokens.verify_access("not.a.jwt")


def _tampered(token: str, **claims: object) -> str:
    """The token with its payload rewritten and its signature kept: what a forger without the key can do."""
    header, payload, signature = token.split(".")
    rewritten = {**json.loads(from_b64url(payload)), **claims}
    return ".".join((header, b64url(json.dumps(rewritten).encode()), signature))


def test_a_rewritten_token_is_refused_even_when_it_also_claims_to_have_expired() -> None:
    tokens = _service({"keys": [new_signing_key()]})
    token = tokens.issue_access("u1", ["guest"], "s1")
    with pytest.raises(TokenInvalid):
        tokens.verify_access(_tampered(token, roles=["admin"]))
    # The signature is checked before any claim is believed: a forgery is never answered "expired, refresh".
    with pytest.raises(TokenInvalid):
        tokens.verify_access(_tampered(token, roles=["admin"], exp=1))


def test_a_token_signed_by_the_right_key_under_another_algorithm_name_is_refused() -> None:
    key = new_signing_key()
    tokens = _service({"keys": [key]})
    header, payload, _ = tokens.issue_access("u1", ["guest"], "s1").split(".")
    relabelled = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key["kid"]}).encode()) + "." + payload
    signature = parse_key_ring(json.dumps({"keys": [key]})).signing_key.sign(relabelled.encode())
    with pytest.raises(TokenInvalid):
        tokens.verify_access(relabelled + "." + b64url(signature))


def _public_half(key: dict) -> dict:
    return {"kid": key["kid"], "public_key": b64url(parse_key_ring(json.dumps({"keys": [key]})).verifying_keys[key["kid"]]
                                                    .public_bytes_raw())}  # fmt: skip


def test_tokens_verify_outside_the_gateway_by_the_published_key() -> None:
    tokens = _service({"keys": [new_signing_key()]})
    token = tokens.issue_access("u1", ["guest"], "s1")
    published = jwt.PyJWKSet.from_dict(tokens.jwks()).keys[0]
    claims = jwt.decode(token, published, algorithms=["EdDSA"], audience="lango", issuer="lango")
    assert (claims["sub"], claims["sid"]) == ("u1", "s1")


def test_a_token_whose_mac_does_not_hold_is_refused_though_its_signature_does() -> None:
    key = new_signing_key()
    tokens = _service({"keys": [key]})
    ring = parse_key_ring(json.dumps({"keys": [key]}))
    payload = tokens.issue_access("u1", ["guest"], "s1").split(".")[1]
    for mac in ("A" * 22, "é" * 22, 7):
        resigned = jwt.api_jws.encode(from_b64url(payload), ring.signing_key, algorithm="EdDSA",
                                      headers={"kid": key["kid"], "mac": mac})  # fmt: skip
        with pytest.raises(TokenInvalid):
            tokens.verify_access(resigned)


def test_a_token_without_a_mac_or_from_a_key_held_only_by_its_public_half_is_checked_by_its_signature() -> None:
    old, new = new_signing_key(), new_signing_key()
    ring = parse_key_ring(json.dumps({"keys": [old]}))
    payload = _service({"keys": [old]}).issue_access("u1", ["guest"], "s1").split(".")[1]
    without_mac = jwt.api_jws.encode(from_b64url(payload), ring.signing_key, algorithm="EdDSA", headers={"kid": old["kid"]})
    assert _service({"keys": [old]}).verify_access(without_mac).user_id == "u1"
    with pytest.raises(TokenInvalid):
        _service({"keys": [old]}).verify_access(_tampered(without_mac, roles=["admin"]))
    minted_elsewhere = _service({"keys": [old]}).issue_access("u2", ["guest"], "s2")
    public_only = _service({"keys": [new, _public_half(old)]})
    assert public_only.verify_access(minted_elsewhere).user_id == "u2"
    with pytest.raises(TokenInvalid):
        public_only.verify_access(_tampered(minted_elsewhere, roles=["admin"]))


async def test_tokens_checked_beside_the_loop_together_each_get_their_own_answer() -> None:
    checks = SignatureChecks()
    try:
        # Minted by a key this service holds only the public half of: each one's signature is checked.
        old = new_signing_key()
        issued = [_service({"keys": [old]}).issue_access(f"u{n}", ["guest"], f"s{n}") for n in range(40)]
        tokens = TokenService(parse_key_ring(json.dumps({"keys": [new_signing_key(), _public_half(old)]})), issuer="lango",
                              access_ttl=timedelta(minutes=15), challenge_ttl=timedelta(minutes=5),
                              signature_checks=checks)  # fmt: skip
        sent = [token if n % 3 else _tampered(token, sub="someone-else") for n, token in enumerate(issued)]

        answers = await asyncio.gather(*(tokens.verify_access_beside_loop(token) for token in sent), return_exceptions=True)

        assert [n for n, answer in enumerate(answers) if isinstance(answer, TokenInvalid)] == list(range(0, 40, 3))
        assert [answer.user_id for answer in answers if not isinstance(answer, Exception)] == [
            f"u{n}" for n in range(40) if n % 3
        ]
    finally:
        checks.close()


def test_key_ring_errors_never_echo_the_key() -> None:
    with pytest.raises(KeyRingError) as error:
        parse_key_ring(json.dumps({"keys": [{"kid": "k1", "private_key": "c2VjcmV0LXNob3J0"}]}))
    assert "c2VjcmV0" not in str(error.value)


async def test_jwks_publishes_the_verifying_keys(client: TestClient) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status == 200
    (key,) = (await response.json())["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" not in key


async def test_token_signed_with_a_retired_key_is_a_401(aiohttp_client, settings) -> None:  # type: ignore[no-untyped-def]
    old, new = new_signing_key(), new_signing_key()
    auth = settings.auth.model_copy(update={"signing_keys": SecretStr(json.dumps({"keys": [new, old], "retired": [old["kid"]]}))})
    client = await aiohttp_client(create_app(settings.model_copy(update={"auth": auth})))
    user = await create_user(client.app)

    minted_with_old = _service({"keys": [old]}).issue_access(str(user.id), user.roles, "s1")
    response = await client.get("/v1/auth/me", headers=auth_header(minted_with_old))
    assert response.status == 401
    body = await response.json(content_type="application/problem+json")
    assert body["type"] == "urn:lango:problem:unauthenticated"

    minted_with_new = _service({"keys": [new]}).issue_access(str(user.id), user.roles, "s1")
    assert (await client.get("/v1/auth/me", headers=auth_header(minted_with_new))).status == 200
    assert client.app[SERVICES].tokens.verify_access(access_token_for(client.app, user)).user_id == str(user.id)


def test_lango_keys_new_prints_a_key_the_settings_accept(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["keys", "new"])
    assert exit_.value.code == 0
    entry = json.loads(capsys.readouterr().out)
    ring = parse_key_ring(json.dumps({"keys": [entry]}))
    assert ring.signing_kid == entry["kid"]

"""Access tokens: signed with the newest key, verified by any key not retired, refused when expired or forged."""

import json
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from gateway.app import create_app
from gateway.crypto.signing_keys import KeyRingError, new_signing_key, parse_key_ring
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

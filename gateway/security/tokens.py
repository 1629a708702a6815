"""Signed tokens: access JWTs for every request and socket, challenge JWTs for the second sign-in step, and the
long-lived device tokens that mark a device an account signed in on before."""

import binascii
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
import orjson
from pydantic import BaseModel, ConfigDict

from gateway.crypto.encoding import b64url, from_b64url
from gateway.crypto.signing_keys import KeyRing, ephemeral_key_ring, parse_key_ring
from gateway.logs import get_logger
from gateway.security.claims import ClaimsExpired, ClaimsRefused, read_claims
from gateway.security.signature_checks import Check, SignatureChecks, checking_key, signature_holds
from gateway.security.token_mac import MAC_HEADER, mac_holds, mac_key, payload_mac
from gateway.settings import AuthSettings

ALGORITHM = "EdDSA"
ACCESS_USE = "access"
DEVICE_USE = "device"
ChallengePurpose = Literal["mfa", "mfa_enrolment"]
_CLOCK_SKEW_S = 10

log = get_logger("lango.tokens")


class TokenError(Exception):
    """A token cannot be accepted."""


class TokenExpired(TokenError):
    """The token was valid but its time is up: refresh it."""


class TokenInvalid(TokenError):
    """The token is malformed, forged, of the wrong kind, or signed by a retired or unknown key."""


class AccessClaims(BaseModel):
    """Who an access token speaks for."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    roles: frozenset[str]
    session_id: str
    expires_at: datetime
    # When the person last proved who they are for this session (the password, or its second factor); None when
    # the token does not say, which never counts as recent.
    auth_time: datetime | None = None


class ChallengeClaims(BaseModel):
    """A user half-way through signing in; `challenge_id` makes each challenge single-use."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    purpose: ChallengePurpose
    challenge_id: str
    expires_at: datetime


class DeviceClaims(BaseModel):
    """A device that signed in to this account before; `device_id` names it in the sign-in limits."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    device_id: str


class TokenService:
    """Signs with the newest key and verifies with any key not retired; CPU-only. A token made with the signing key
    this service holds is checked by its MAC (gateway/security/token_mac.py), any other by its signature. With
    `signature_checks`, access tokens can also be verified with the signature checked beside the event loop
    (`verify_access_beside_loop`)."""

    def __init__(
        self,
        keys: KeyRing,
        *,
        issuer: str,
        access_ttl: timedelta,
        challenge_ttl: timedelta,
        signature_checks: SignatureChecks | None = None,
    ) -> None:
        self._keys = keys
        self._checking_keys = {kid: checking_key(key) for kid, key in keys.verifying_keys.items()}
        self._mac_key = mac_key(keys.signing_kid, keys.signing_key)
        self._issuer = issuer
        self.access_ttl = access_ttl
        self.challenge_ttl = challenge_ttl
        self._signature_checks = signature_checks

    def issue_access(self, user_id: str, roles: Iterable[str], session_id: str, auth_time: datetime | None = None) -> str:
        claims: dict[str, Any] = {"use": ACCESS_USE, "sub": user_id, "roles": sorted(set(roles)), "sid": session_id}
        if auth_time is not None:
            claims["auth_time"] = int(auth_time.timestamp())
        return self._sign(claims, self.access_ttl)

    def verify_access(self, token: str) -> AccessClaims:
        self._check_authenticity(token)
        return self._access_claims(token)

    async def verify_access_beside_loop(self, token: str) -> AccessClaims:
        """`verify_access`, with a signature to check checked on the signature-check thread (a socket connect's
        token: a storm of them otherwise holds the loop for the checks alone)."""
        signed = self._signature_to_check(token)
        if signed is not None:
            if self._signature_checks is None:
                holds = signature_holds(*signed)
            else:
                holds = await self._signature_checks.check(*signed)
            if not holds:
                raise TokenInvalid("the signature does not hold")
        return self._access_claims(token)

    def _access_claims(self, token: str) -> AccessClaims:
        claims = self._claims(token, ACCESS_USE, ("sub", "sid", "roles"))
        roles = claims["roles"]
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise TokenInvalid("roles claim is not a list of names")
        auth_time = claims.get("auth_time")
        if auth_time is not None and (not isinstance(auth_time, int) or isinstance(auth_time, bool)):
            raise TokenInvalid("auth_time claim is not a time")
        return AccessClaims(
            user_id=str(claims["sub"]),
            roles=frozenset(roles),
            session_id=str(claims["sid"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            auth_time=datetime.fromtimestamp(auth_time, UTC) if auth_time is not None else None,
        )

    def issue_challenge(self, user_id: str, purpose: ChallengePurpose) -> str:
        return self._sign({"use": purpose, "sub": user_id, "jti": secrets.token_urlsafe(16)}, self.challenge_ttl)

    def verify_challenge(self, token: str, purpose: ChallengePurpose) -> ChallengeClaims:
        claims = self._verify(token, purpose, ("sub", "jti"))
        return ChallengeClaims(
            user_id=str(claims["sub"]),
            purpose=purpose,
            challenge_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )

    def issue_device(self, user_id: str, ttl: timedelta) -> str:
        return self._sign({"use": DEVICE_USE, "sub": user_id, "jti": secrets.token_urlsafe(16)}, ttl)

    def verify_device(self, token: str) -> DeviceClaims:
        claims = self._verify(token, DEVICE_USE, ("sub", "jti"))
        return DeviceClaims(user_id=str(claims["sub"]), device_id=str(claims["jti"]))

    def jwks(self) -> dict[str, Any]:
        return self._keys.jwks()

    def _sign(self, claims: dict[str, Any], ttl: timedelta) -> str:
        now = int(datetime.now(UTC).timestamp())
        ttl_s = int(ttl.total_seconds())
        payload = orjson.dumps({**claims, "iss": self._issuer, "aud": self._issuer, "iat": now, "exp": now + ttl_s})
        kid = self._keys.signing_kid
        headers = {"kid": kid, MAC_HEADER: payload_mac(self._mac_key, b64url(payload))}
        return jwt.api_jws.encode(payload, self._keys.signing_key, algorithm=ALGORITHM, headers=headers)

    def _verify(self, token: str, use: str, required: tuple[str, ...]) -> dict[str, Any]:
        self._check_authenticity(token)
        return self._claims(token, use, required)

    def _check_authenticity(self, token: str) -> None:
        signed = self._signature_to_check(token)
        if signed is not None and not signature_holds(*signed):
            raise TokenInvalid("the signature does not hold")

    def _signature_to_check(self, token: str) -> Check | None:
        """None when the token is this service's own and its MAC holds; else the key the token names, its signature
        and what it signs, to check. Either comes before any claim is believed."""
        header = _unverified_header(token)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenInvalid("not a JWT naming its key")
        if self._keys.verifying_key(kid) is None:
            raise TokenInvalid("signed by a retired or unknown key")
        signing_input, _, signature = token.rpartition(".")
        # A token without a MAC (made before tokens had one, or by a key whose private half is not here) is
        # checked by its signature; a MAC that does not hold refuses the token outright.
        if kid == self._keys.signing_kid and MAC_HEADER in header:
            if not mac_holds(self._mac_key, signing_input.partition(".")[2], header[MAC_HEADER]):
                raise TokenInvalid("the MAC does not hold")
            return None
        try:
            return self._checking_keys[kid], from_b64url(signature), signing_input.encode()
        except (ValueError, binascii.Error):
            raise TokenInvalid("not a JWT") from None

    def _claims(self, token: str, use: str, required: tuple[str, ...]) -> dict[str, Any]:
        """The claims of a token whose signature holds: format, algorithm, times, issuer, audience, the claims
        required (gateway/security/claims.py)."""
        try:
            header, claims = read_claims(
                token, issuer=self._issuer, required=("exp", "iat", "iss", "aud", "use", *required), leeway_s=_CLOCK_SKEW_S
            )
        except ClaimsExpired:
            raise TokenExpired("the token has expired") from None
        except ClaimsRefused as error:
            raise TokenInvalid(str(error)) from None
        if header.get("alg") != ALGORITHM:
            raise TokenInvalid("not signed with EdDSA")
        if claims["use"] != use:
            raise TokenInvalid(f"a {claims['use']} token is not a {use} token")
        return claims


def _unverified_header(token: str) -> dict[str, Any]:
    """The token's header, read only to pick how its authenticity is checked ({} when there is none)."""
    try:
        header = orjson.loads(from_b64url(token[: token.index(".")]))
    except (ValueError, binascii.Error):
        return {}
    return header if isinstance(header, dict) else {}


def create_token_service(
    settings: AuthSettings, environment: str, signature_checks: SignatureChecks | None = None
) -> TokenService:
    """The service over the configured keys; outside production, with none configured, an ephemeral key."""
    if settings.signing_keys is not None:
        keys = parse_key_ring(settings.signing_keys.get_secret_value())
    else:
        keys = ephemeral_key_ring()
        log.warning(
            "NO SIGNING KEYS CONFIGURED: using an ephemeral key; every token dies with this process. "
            "Set LANGO_AUTH__SIGNING_KEYS (see `lango keys new`).",
            kid=keys.signing_kid,
            environment=environment,
        )
    return TokenService(
        keys,
        issuer=settings.issuer,
        access_ttl=timedelta(seconds=settings.access_token_ttl_s),
        challenge_ttl=timedelta(seconds=settings.challenge_token_ttl_s),
        signature_checks=signature_checks,
    )

"""The account problems a client can act on, each with a stable type."""

from gateway.problems import Conflict, Forbidden, MalformedRequest, Problem, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    slug, title = "invalid-credentials", "The email or phone and password do not match an account"


class AccountLocked(TooManyRequests):
    slug, title = "account-locked", "Too many failed sign-ins: signing in is locked for a while"


class WrongPassword(Forbidden):
    slug, title = "wrong-password", "The current password is not right"


class ReauthenticationRequired(Forbidden):
    slug, title = "reauthentication-required", "Confirm it is you: send your password, or sign in again first"


class RefreshTokenInvalid(Unauthenticated):
    slug, title = "refresh-token-invalid", "The refresh token is not valid: sign in again"


class RefreshTokenReused(Unauthenticated):
    slug, title = "refresh-token-reused", "This refresh token was already used: the session is signed out"


class OtpInvalid(MalformedRequest):
    slug, title = "otp-invalid", "The code is not right"


class OtpDead(Problem):
    status, slug, title = 410, "otp-expired", "The code has expired or was tried too often: ask for a new one"


class OtpCooldown(TooManyRequests):
    slug, title = "otp-cooldown", "A code was sent moments ago: wait before asking again"


class NoDestination(Conflict):
    slug, title = "no-destination", "The account has no such email or phone"


class AlreadyVerified(Conflict):
    slug, title = "already-verified", "This email or phone is already verified"


class MfaTokenInvalid(Unauthenticated):
    slug, title = "mfa-token-invalid", "The MFA token is not valid or has expired: sign in again"


class MfaInvalid(Unauthenticated):
    slug, title = "mfa-invalid", "The two-factor code is not right"


class MfaEnrolmentRequired(Forbidden):
    slug, title = "mfa-enrolment-required", "This account's role needs two-factor authentication: turn it on first"


class MfaRequiredForRole(Forbidden):
    slug, title = (
        "mfa-required-for-role",
        "This account's role needs two-factor authentication: it cannot be turned off",
    )


class MfaAlreadyEnabled(Conflict):
    slug, title = "mfa-already-enabled", "Two-factor authentication is already on"


class MfaNotEnabled(Conflict):
    slug, title = "mfa-not-enabled", "Two-factor authentication is not on"


class MfaEnrolmentNotStarted(Conflict):
    slug, title = "mfa-enrolment-not-started", "Start the two-factor enrolment first"


class OwnAdminRole(Conflict):
    slug, title = "own-admin-role", "An admin cannot remove their own admin role"


class AccountBeingErased(Conflict):
    slug, title = "account-being-erased", "The account is being erased: it can be given no role and apply for none"


class OwnTwoFactorReset(Conflict):
    slug, title = "own-two-factor-reset", "An admin cannot reset their own two-factor authentication: ask another admin"


class AccountSuspended(Forbidden):
    slug, title = "account-suspended", "An administrator has locked this account: contact support"


class OwnAccountLock(Conflict):
    slug, title = "own-account-lock", "An admin cannot lock their own account: ask another admin"


class AccountLockUnchanged(Conflict):
    slug, title = "account-lock-unchanged", "The account is already locked, or already unlocked"

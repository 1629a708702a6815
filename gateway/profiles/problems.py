"""The problems profile and host-application routes answer with, each with a stable type."""

from gateway.problems import Conflict


class ContactUnchanged(Conflict):
    slug, title = "contact-unchanged", "That is already the account's email or phone"


class ContactTaken(Conflict):
    slug, title = "contact-taken", "Another account uses that email or phone"


class AlreadyHost(Conflict):
    slug, title = "already-host", "This account can host already"


class ApplicationPending(Conflict):
    slug, title = "application-pending", "An application of yours is awaiting a decision already"


class PayoutPhoneRequired(Conflict):
    slug, title = (
        "payout-phone-required",
        "Confirm the M-Pesa phone you will be paid on first (PUT /v1/payouts/destination)",
    )


class ApplicationDecided(Conflict):
    slug, title = "application-decided", "The application was decided or withdrawn already"

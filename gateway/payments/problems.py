"""The problems payment routes answer with, each with a stable type a client can act on."""

from gateway.problems import Conflict, Forbidden, MalformedRequest, ServiceUnavailable, ValidationFailed


class PaymentMethodUnavailable(ServiceUnavailable):
    slug, title = "payment-method-unavailable", "This payment method cannot take payments right now"


class PaymentProviderUnavailable(ServiceUnavailable):
    slug, title = "payment-provider-unavailable", "The payment provider could not be reached"


class TargetNotPayable(Conflict):
    slug, title = "not-payable", "This booking or order cannot be paid now"


class PaymentInProgress(Conflict):
    slug, title = "payment-in-progress", "This booking or order already has a payment under way or made"


class PaymentStateProblem(Conflict):
    slug, title = "payment-state-conflict", "The payment is not in a state that allows this"


class PaymentDetailsInvalid(ValidationFailed):
    slug, title = "payment-details-invalid", "The payment details cannot be used"


class WebhookNotVerified(MalformedRequest):
    slug, title = "webhook-not-verified", "The notification's signature or token does not verify"


class WebhookSourceRefused(Forbidden):
    slug, title = "webhook-source-refused", "Notifications are not accepted from this address"

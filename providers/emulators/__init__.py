"""Local emulators of vendor APIs that speak each vendor's wire format, for tests and the sandbox."""

from providers.emulators.daraja import create_daraja_emulator
from providers.emulators.daraja_c2b import PaybillOutcome, pay_bill
from providers.emulators.daraja_certificate import InitiatorCertificate, issue_initiator_certificate
from providers.emulators.daraja_org import finish_b2c, finish_late_b2c, post_pending_results
from providers.emulators.daraja_state import (
    B2C_TEST_PHONES,
    DARAJA_SANDBOX,
    TEST_PHONES,
    B2cScenario,
    DarajaSandbox,
    DarajaSettings,
    ResultDelivery,
    StkScenario,
)
from providers.emulators.notifications import Delivery, NotificationDispatcher
from providers.emulators.paypal import PAYPAL_SANDBOX, PaypalEmulatorSettings, PaypalSandbox, create_paypal_emulator
from providers.emulators.runner import serve_emulator
from providers.emulators.stripe import STRIPE_SANDBOX, StripeEmulatorSettings, StripeSandbox, create_stripe_emulator

__all__ = [
    "B2C_TEST_PHONES",
    "DARAJA_SANDBOX",
    "PAYPAL_SANDBOX",
    "STRIPE_SANDBOX",
    "TEST_PHONES",
    "B2cScenario",
    "DarajaSandbox",
    "DarajaSettings",
    "Delivery",
    "InitiatorCertificate",
    "NotificationDispatcher",
    "PaybillOutcome",
    "PaypalSandbox",
    "PaypalEmulatorSettings",
    "ResultDelivery",
    "StkScenario",
    "StripeSandbox",
    "StripeEmulatorSettings",
    "create_daraja_emulator",
    "create_paypal_emulator",
    "create_stripe_emulator",
    "finish_b2c",
    "finish_late_b2c",
    "issue_initiator_certificate",
    "pay_bill",
    "post_pending_results",
    "serve_emulator",
]

"""Local emulators of vendor APIs that speak each vendor's wire format, for tests and the sandbox."""

from providers.emulators.daraja import (
    DARAJA_SANDBOX,
    TEST_PHONES,
    DarajaSandbox,
    DarajaSettings,
    StkScenario,
    create_daraja_emulator,
)
from providers.emulators.notifications import Delivery, NotificationDispatcher
from providers.emulators.paypal import PAYPAL_SANDBOX, PaypalEmulatorSettings, PaypalSandbox, create_paypal_emulator
from providers.emulators.runner import serve_emulator
from providers.emulators.stripe import STRIPE_SANDBOX, StripeEmulatorSettings, StripeSandbox, create_stripe_emulator

__all__ = [
    "DARAJA_SANDBOX",
    "PAYPAL_SANDBOX",
    "STRIPE_SANDBOX",
    "TEST_PHONES",
    "DarajaSandbox",
    "DarajaSettings",
    "Delivery",
    "NotificationDispatcher",
    "PaypalSandbox",
    "PaypalEmulatorSettings",
    "StkScenario",
    "StripeSandbox",
    "StripeEmulatorSettings",
    "create_daraja_emulator",
    "create_paypal_emulator",
    "create_stripe_emulator",
    "serve_emulator",
]

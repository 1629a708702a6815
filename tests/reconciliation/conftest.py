"""Reconciliation's tests run on a gateway its vendor emulators call back, like the payments tests."""

from tests.payments.conftest import client, gateway_port, gateway_socket, published, sandbox, settings  # noqa: F401  (fixtures)

"""The problems ticket routes answer with, each with a stable type a client can act on."""

from gateway.problems import Conflict, ValidationFailed


class SoldOut(Conflict):
    slug, title = "sold-out", "Not enough tickets are left"


class NotOnSale(Conflict):
    slug, title = "not-on-sale", "These tickets are not on sale now"


class OrderStateProblem(Conflict):
    slug, title = "ticket-order-state-conflict", "The ticket order is not in a state that allows this"


class OrderNotAllowed(ValidationFailed):
    slug, title = "order-not-allowed", "This order cannot be placed"


class ScanNotAllowed(ValidationFailed):
    slug, title = "scan-not-allowed", "These scans cannot be applied"

"""The problems event routes answer with, each with a stable type a client can act on."""

from gateway.problems import Conflict, Forbidden, ValidationFailed


class EventStateProblem(Conflict):
    slug, title = "event-state-conflict", "The event is not in a state that allows this"


class EventNotValid(ValidationFailed):
    slug, title = "event-not-valid", "These event details cannot be accepted"


class NotAScanner(ValidationFailed):
    slug, title = "not-a-scanner", "Only accounts with the scanner role can scan tickets"


class NotEventScanner(Forbidden):
    slug, title = "not-event-scanner", "You are not door staff of this event"

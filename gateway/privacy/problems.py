"""The problems privacy requests answer with."""

from gateway.problems import Conflict, NotFound


class DeletionBlocked(Conflict):
    """The account still has business that must finish first; `reasons` lists each, by a stable code."""

    slug, title = "deletion-blocked", "The account cannot be deleted yet"


class NoDeletionScheduled(NotFound):
    slug, title = "no-deletion-scheduled", "No deletion of this account is waiting"


class ExportNotFound(NotFound):
    slug, title = "export-not-found", "No such data export"


class ExportNotReady(Conflict):
    slug, title = "export-not-ready", "The archive is not ready, or no longer kept"


class ConsentWordingOutdated(Conflict):
    slug, title = "consent-wording-outdated", "The opt-in wording shown is not the current one"

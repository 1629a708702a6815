"""The data model: Beanie documents, their indexes, and the rules of their state."""

from beanie import Document

from documents.user import User

# Every document the gateway stores; init_beanie and `lango migrate` work from this list.
ALL_DOCUMENTS: list[type[Document]] = [User]

__all__ = ["ALL_DOCUMENTS"]

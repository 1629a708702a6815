"""The data model: Beanie documents, their indexes, and the rules of their state."""

from beanie import Document

# Every document the gateway stores; init_beanie and `lango migrate` work from this list.
ALL_DOCUMENTS: list[type[Document]] = []

__all__ = ["ALL_DOCUMENTS"]

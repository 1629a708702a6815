"""What the maps routes answer: suggestions, a place, places and routes, best first."""

from pydantic import BaseModel

from providers.maps import Place, PlaceSuggestion, Route


class Suggestions(BaseModel):
    suggestions: list[PlaceSuggestion]


class PlaceAnswer(BaseModel):
    place: Place


class Places(BaseModel):
    """Candidates, best first; empty when nothing matched."""

    places: list[Place]


class Routes(BaseModel):
    """Routes, best first; empty when none exists."""

    routes: list[Route]

"""Maps routes: the app asks the gateway, the gateway asks the vendor with a key the app never sees."""

from aiohttp import web

from gateway.http_access import AUTHENTICATED
from gateway.maps.places import (
    AutocompleteQuery,
    DirectionsQuery,
    GeocodeQuery,
    PlaceQuery,
    ReverseGeocodeQuery,
    autocomplete,
    directions,
    geocode,
    place_details,
    reverse_geocode,
)
from gateway.maps.views import PlaceAnswer, Places, Routes, Suggestions
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="maps")
MAPS_PROBLEMS = (404, 429, 503)


@routes.get(
    "/v1/maps/autocomplete",
    query=AutocompleteQuery,
    response=Suggestions,
    access=AUTHENTICATED,
    problems=MAPS_PROBLEMS,
    summary="Place suggestions for what the user is typing",
    description="Send one session_token (a UUID) for the keystrokes of one search and the place details that end it.",
)
async def maps_autocomplete(request: web.Request, caller: Caller, query: AutocompleteQuery) -> Suggestions:
    return await autocomplete(request.app[SERVICES], caller, query)


@routes.get(
    "/v1/maps/places/{place_id:[A-Za-z0-9_-]+}",
    query=PlaceQuery,
    response=PlaceAnswer,
    access=AUTHENTICATED,
    problems=MAPS_PROBLEMS,
    summary="A chosen place's address and position",
)
async def maps_place(request: web.Request, caller: Caller, query: PlaceQuery) -> PlaceAnswer:
    return await place_details(request.app[SERVICES], caller, request.match_info["place_id"], query)


@routes.get(
    "/v1/maps/geocode",
    query=GeocodeQuery,
    response=Places,
    access=AUTHENTICATED,
    problems=MAPS_PROBLEMS,
    summary="Places matching an address",
)
async def maps_geocode(request: web.Request, caller: Caller, query: GeocodeQuery) -> Places:
    return await geocode(request.app[SERVICES], caller, query)


@routes.get(
    "/v1/maps/reverse-geocode",
    query=ReverseGeocodeQuery,
    response=Places,
    access=AUTHENTICATED,
    problems=MAPS_PROBLEMS,
    summary="Addresses at a point, most precise first",
)
async def maps_reverse_geocode(request: web.Request, caller: Caller, query: ReverseGeocodeQuery) -> Places:
    return await reverse_geocode(request.app[SERVICES], caller, query)


@routes.get(
    "/v1/maps/directions",
    query=DirectionsQuery,
    response=Routes,
    access=AUTHENTICATED,
    problems=MAPS_PROBLEMS,
    summary="Routes between two points",
    description="origin and destination are `lat,lng` or `place_id:<id>`.",
)
async def maps_directions(request: web.Request, caller: Caller, query: DirectionsQuery) -> Routes:
    return await directions(request.app[SERVICES], caller, query)

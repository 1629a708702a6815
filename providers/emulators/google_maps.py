"""An emulator of Google's Maps JSON web services (autocomplete, details, geocode, directions) around Nairobi."""

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ROAD_FACTOR = 1.3  # roads are longer than the straight line between two points
SPEED_KMH = {"driving": 25.0, "walking": 5.0, "bicycling": 15.0, "transit": 18.0}
REVERSE_GEOCODE_RADIUS_KM = 5.0


@dataclass(frozen=True)
class EmulatedPlace:
    place_id: str
    name: str
    locality: str
    lat: float
    lng: float
    types: tuple[str, ...]
    country: str = "KE"
    country_name: str = "Kenya"

    @property
    def description(self) -> str:
        return f"{self.name}, {self.locality}, {self.country_name}"


_DISTRICT = ("sublocality_level_1", "sublocality", "political")
_MALL = ("shopping_mall", "point_of_interest", "establishment")
NAIROBI_PLACES = (
    EmulatedPlace("ChIJw1pKQ2oQLxgRwestlands01", "Westlands", "Nairobi", -1.2676, 36.8108, _DISTRICT),
    EmulatedPlace("ChIJmX5DkxsQLxgRkilimani001", "Kilimani", "Nairobi", -1.2890, 36.7850, _DISTRICT),
    EmulatedPlace("ChIJ4a8Ew4cRLxgRkaren000001", "Karen", "Nairobi", -1.3194, 36.7073, _DISTRICT),
    EmulatedPlace("ChIJV3kileleshwa0LxgR000001", "Kileleshwa", "Nairobi", -1.2806, 36.7833, _DISTRICT),
    EmulatedPlace("ChIJlavington00LxgR00000001", "Lavington", "Nairobi", -1.2793, 36.7694, _DISTRICT),
    EmulatedPlace("ChIJsarit0centre0LxgR000001", "Sarit Centre", "Westlands, Nairobi", -1.2606, 36.8027, _MALL),
    EmulatedPlace("ChIJyaya0centre00LxgR000001", "Yaya Centre", "Argwings Kodhek Rd, Nairobi", -1.2929, 36.7879, _MALL),
    EmulatedPlace(
        "ChIJjkia0airport0LxgR000001",
        "Jomo Kenyatta International Airport",
        "Embakasi, Nairobi",
        -1.3192,
        36.9278,
        ("airport", "point_of_interest", "establishment"),
    ),
    EmulatedPlace("ChIJkampala0road0LxgR00001", "Kampala Road", "Kampala", 0.3136, 32.5811, ("route",), "UG", "Uganda"),
)


def encode_polyline(points: list[tuple[float, float]]) -> str:
    """Google's encoded polyline algorithm format."""
    encoded: list[str] = []
    previous = (0, 0)
    for lat, lng in points:
        current = (round(lat * 1e5), round(lng * 1e5))
        for delta in (current[0] - previous[0], current[1] - previous[1]):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                encoded.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            encoded.append(chr(value + 63))
        previous = current
    return "".join(encoded)


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _components(place: EmulatedPlace) -> list[dict[str, Any]]:
    return [
        {"long_name": place.name, "short_name": place.name, "types": list(place.types)},
        {"long_name": place.locality, "short_name": place.locality, "types": ["locality", "political"]},
        {"long_name": place.country_name, "short_name": place.country, "types": ["country", "political"]},
    ]


def _result(place: EmulatedPlace) -> dict[str, Any]:
    return {
        "address_components": _components(place),
        "formatted_address": place.description,
        "geometry": {
            "location": {"lat": place.lat, "lng": place.lng},
            "location_type": "APPROXIMATE",
            "viewport": {
                "northeast": {"lat": place.lat + 0.01, "lng": place.lng + 0.01},
                "southwest": {"lat": place.lat - 0.01, "lng": place.lng - 0.01},
            },
        },
        "name": place.name,
        "place_id": place.place_id,
        "types": list(place.types),
    }


def _denied(message: str) -> web.Response:
    return web.json_response({"error_message": message, "status": "REQUEST_DENIED"})


def _status(status: str, message: str | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"status": status, **extra}
    if message:
        body["error_message"] = message
    return web.json_response(body)


@dataclass
class GoogleMapsEmulator:
    """Checks the `key` like Google, answers from `NAIROBI_PLACES`, counts calls and can be told to fail."""

    api_key: str
    places: tuple[EmulatedPlace, ...] = NAIROBI_PLACES
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[dict[str, str]] = field(default_factory=list)
    forced_status: str | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._check_key])
        app.router.add_get("/maps/api/place/autocomplete/json", self._autocomplete)
        app.router.add_get("/maps/api/place/details/json", self._details)
        app.router.add_get("/maps/api/geocode/json", self._geocode)
        app.router.add_get("/maps/api/directions/json", self._directions)
        return app

    @web.middleware
    async def _check_key(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls[request.path] += 1
        self.requests.append(dict(request.query))
        key = request.query.get("key")
        if not key:
            return _denied("You must use an API key to authenticate each request to Google Maps Platform APIs.")
        if key != self.api_key:
            return _denied("The provided API key is invalid.")
        if self.forced_status:
            return _status(self.forced_status, f"Emulated {self.forced_status}.")
        return await handler(request)

    def _by_id(self, place_id: str) -> EmulatedPlace | None:
        return next((place for place in self.places if place.place_id == place_id), None)

    def _in_country(self, request: web.Request) -> list[EmulatedPlace]:
        countries = {
            part.split(":", 1)[1].upper()
            for part in request.query.get("components", "").split("|")
            if part.lower().startswith("country:")
        }
        return [place for place in self.places if not countries or place.country in countries]

    def _matching(self, request: web.Request, text: str) -> list[EmulatedPlace]:
        wanted = text.strip().lower()
        return [place for place in self._in_country(request) if wanted in place.description.lower()]

    async def _autocomplete(self, request: web.Request) -> web.Response:
        text = request.query.get("input", "")
        if not text:
            return _status("INVALID_REQUEST", "Missing the input parameter.", predictions=[])
        predictions = [
            {
                "description": place.description,
                "matched_substrings": [{"length": len(text), "offset": place.description.lower().find(text.lower())}],
                "place_id": place.place_id,
                "reference": place.place_id,
                "structured_formatting": {
                    "main_text": place.name,
                    "secondary_text": f"{place.locality}, {place.country_name}",
                },
                "terms": [{"offset": 0, "value": place.name}, {"offset": len(place.name) + 2, "value": place.locality}],
                "types": [*place.types, "geocode"],
            }
            for place in self._matching(request, text)
        ][:5]
        return _status("OK" if predictions else "ZERO_RESULTS", predictions=predictions)

    async def _details(self, request: web.Request) -> web.Response:
        place_id = request.query.get("place_id")
        if not place_id:
            return _status("INVALID_REQUEST", "Missing the placeid or place_id parameter.")
        place = self._by_id(place_id)
        if place is None:
            return _status("NOT_FOUND", html_attributions=[])
        result = _result(place)
        if fields := request.query.get("fields"):
            wanted = {name.split("/", 1)[0] for name in fields.split(",")}
            result = {name: value for name, value in result.items() if name in wanted}
        return _status("OK", html_attributions=[], result=result)

    async def _geocode(self, request: web.Request) -> web.Response:
        if address := request.query.get("address"):
            found = self._matching(request, address.split(",", 1)[0])
        elif latlng := request.query.get("latlng"):
            try:
                lat, lng = (float(part) for part in latlng.split(","))
            except ValueError:
                return _status("INVALID_REQUEST", "Invalid request. Invalid 'latlng' parameter.", results=[])
            distances = {place: _distance_km((lat, lng), (place.lat, place.lng)) for place in self.places}
            nearby = [place for place in self.places if distances[place] <= REVERSE_GEOCODE_RADIUS_KM]
            found = sorted(nearby, key=lambda place: distances[place])
        else:
            missing = "Invalid request. Missing the 'address' or 'latlng' parameter."
            return _status("INVALID_REQUEST", missing, results=[])
        return _status("OK" if found else "ZERO_RESULTS", results=[_result(place) for place in found])

    def _waypoint(self, request: web.Request, text: str) -> tuple[tuple[float, float], str] | None:
        if text.startswith("place_id:"):
            place = self._by_id(text.removeprefix("place_id:"))
            return ((place.lat, place.lng), place.description) if place else None
        try:
            lat, lng = (float(part) for part in text.split(","))
            return (lat, lng), f"{lat},{lng}"
        except ValueError:
            matches = self._matching(request, text.split(",", 1)[0])
            return ((matches[0].lat, matches[0].lng), matches[0].description) if matches else None

    async def _directions(self, request: web.Request) -> web.Response:
        origin_text, destination_text = request.query.get("origin"), request.query.get("destination")
        mode = request.query.get("mode", "driving")
        if not origin_text or not destination_text or mode not in SPEED_KMH:
            return _status("INVALID_REQUEST", "Invalid request. Missing or invalid parameter.", routes=[])
        origin, destination = self._waypoint(request, origin_text), self._waypoint(request, destination_text)
        waypoints = [{"geocoder_status": "OK" if point else "ZERO_RESULTS"} for point in (origin, destination)]
        if origin is None or destination is None:
            return _status("NOT_FOUND", geocoded_waypoints=waypoints, routes=[])
        distance_m = round(_distance_km(origin[0], destination[0]) * ROAD_FACTOR * 1000)
        duration_s = round(distance_m / 1000 / SPEED_KMH[mode] * 3600)
        leg = {
            "distance": {"text": f"{distance_m / 1000:.1f} km", "value": distance_m},
            "duration": {"text": f"{max(1, duration_s // 60)} mins", "value": duration_s},
            "start_address": origin[1],
            "start_location": {"lat": origin[0][0], "lng": origin[0][1]},
            "end_address": destination[1],
            "end_location": {"lat": destination[0][0], "lng": destination[0][1]},
            "steps": [],
        }
        route = {
            "copyrights": "Map data ©2025",
            "legs": [leg],
            "overview_polyline": {"points": encode_polyline([origin[0], destination[0]])},
            "summary": "Waiyaki Way" if mode == "driving" else "",
            "warnings": [],
            "waypoint_order": [],
        }
        return _status("OK", geocoded_waypoints=waypoints, routes=[route])

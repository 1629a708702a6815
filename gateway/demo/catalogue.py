"""What the demo marketplace holds: its people, the agents' listings around Nairobi, Mombasa and Kisumu, one event."""

from dataclasses import dataclass, field
from typing import Any

from documents.user import Role

DEMO_DOMAIN = "demo.example.com"
# Every demo account's password. Known to anyone reading this, which is why `lango demo` refuses production.
DEMO_PASSWORD = "jambo-safari-2026"


@dataclass(frozen=True)
class DemoPerson:
    name: str
    email: str
    phone: str
    roles: list[Role]
    what: str


@dataclass(frozen=True)
class DemoListing:
    title: str
    description: str
    type: str
    bedrooms: int
    bathrooms: int
    max_guests: int
    nightly_price_minor: int
    county: str
    town: str
    street: str
    # [longitude, latitude]
    coordinates: tuple[float, float]
    amenities: list[str] = field(default_factory=list)
    # The colours of the generated photos: sky, ground, walls.
    palette: tuple[str, str, str] = ("#87b5e0", "#6b8f3a", "#f2e3c6")

    def fields(self, photo_ids: list[str]) -> dict[str, Any]:
        """The listing as an agent would send it to `POST /v1/properties`."""
        return {
            "title": self.title,
            "description": self.description,
            "type": self.type,
            "bedrooms": self.bedrooms,
            "bathrooms": self.bathrooms,
            "max_guests": self.max_guests,
            "amenities": self.amenities,
            "nightly_price_minor": self.nightly_price_minor,
            "cleaning_fee_minor": 150_000,
            "currency": "KES",
            "location": {"type": "Point", "coordinates": list(self.coordinates)},
            "address": {"county": self.county, "town": self.town, "street": self.street},
            "photo_ids": photo_ids,
        }


def _person(name: str, phone: str, roles: list[Role], what: str) -> DemoPerson:
    local = name.lower().replace(" ", ".")
    return DemoPerson(name, f"{local}@{DEMO_DOMAIN}", phone, roles, what)


AGENTS = {
    "nairobi": _person("Amina Wanjiru", "+254711000101", ["agent"], "agent in Nairobi, hosts the event"),
    "mombasa": _person("Hassan Omar", "+254711000102", ["agent"], "agent in Mombasa"),
    "kisumu": _person("Akinyi Otieno", "+254711000103", ["agent"], "agent in Kisumu"),
}
SCANNER = _person("Brian Kiprop", "+254711000104", ["scanner"], "door staff of the event")
GUESTS = [
    _person("Grace Muthoni", "+254711000105", [], "guest"),
    _person("Peter Njoroge", "+254711000106", [], "guest"),
]

LISTINGS = {
    "nairobi": [
        DemoListing(
            "Garden flat in Kilimani",
            "<p>A quiet two-bedroom flat off Argwings Kodhek Road, ten minutes from Yaya Centre.</p>"
            "<p>Fast Wi-Fi, a backup generator and secure parking.</p>",
            "apartment", 2, 1, 4, 650_000, "Nairobi", "Kilimani", "Argwings Kodhek Road",
            (36.7856, -1.2921), ["wifi", "parking", "backup_power"], ("#8cb8e8", "#5f7f3b", "#efe1c8"),
        ),
        DemoListing(
            "Karen cottage with a view of the Ngong Hills",
            "<p>A stone cottage on a leafy plot in Karen, close to the Giraffe Centre.</p>",
            "cottage", 1, 1, 2, 900_000, "Nairobi", "Karen", "Langata Road",
            (36.7102, -1.3197), ["wifi", "garden", "fireplace"], ("#a9c9ea", "#4e7a34", "#d9c3a0"),
        ),
    ],
    "mombasa": [
        DemoListing(
            "Nyali beach apartment",
            "<p>Sea-facing apartment a short walk from Nyali beach, with a pool and a rooftop terrace.</p>",
            "apartment", 3, 2, 6, 1_200_000, "Mombasa", "Nyali", "Links Road",
            (39.7124, -4.0435), ["wifi", "pool", "air_conditioning", "sea_view"], ("#6fb7e8", "#e3cf9b", "#ffffff"),
        ),
        DemoListing(
            "Old Town guest room",
            "<p>A room with carved Swahili doors in Mombasa's Old Town, near Fort Jesus.</p>",
            "room", 1, 1, 2, 350_000, "Mombasa", "Old Town", "Ndia Kuu",
            (39.6792, -4.0627), ["wifi", "breakfast"], ("#7fc2ec", "#c9a66b", "#f4ead5"),
        ),
    ],
    "kisumu": [
        DemoListing(
            "Lakeside villa on Dunga Hill",
            "<p>A villa above Lake Victoria with sunsets over the water and a garden for six.</p>",
            "villa", 4, 3, 8, 1_800_000, "Kisumu", "Dunga", "Dunga Road",
            (34.7519, -0.1150), ["wifi", "garden", "lake_view", "parking"], ("#f0b27a", "#3f7a8c", "#f5e6cc"),
        ),
        DemoListing(
            "Milimani town house",
            "<p>A family house in leafy Milimani, five minutes from Kisumu's city centre.</p>",
            "house", 3, 2, 6, 800_000, "Kisumu", "Milimani", "Aga Khan Road",
            (34.7617, -0.1022), ["wifi", "parking", "kitchen"], ("#9fc5e8", "#6a8f44", "#e8d9c0"),
        ),
    ],
}

EVENT = {
    "title": "Nairobi Rooftop Jazz Night",
    "description": "<p>Live jazz on a Westlands rooftop: the Nairobi Horns Project and guests.</p>",
    "venue": {
        "name": "Westlands Rooftop",
        "address": {"county": "Nairobi", "town": "Westlands", "street": "Waiyaki Way"},
        "location": {"type": "Point", "coordinates": [36.8065, -1.2676]},
    },
    "capacity": 300,
}
# name, price in cents, how many
TICKET_TYPES = [("Regular", 150_000, 250), ("VIP", 500_000, 50)]

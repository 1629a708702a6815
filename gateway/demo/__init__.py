"""`lango demo`: a believable marketplace seeded through the domain's own flows, for a newcomer to click through."""

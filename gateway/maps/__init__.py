"""Maps for the app through the server: places, geocoding and directions, cached and rate-limited."""

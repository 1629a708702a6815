"""Load test of the guest journey (sign-in, search, book, pay with the M-Pesa sandbox, socket events) with Locust."""

# The environment variable that hands the seeded listing ids (a JSON file) to the Locust process.
LISTINGS_FILE = "LANGO_LOAD_LISTINGS"

"""Load test of the guest journey (sign-in, search, book, pay with the M-Pesa sandbox, socket events) with Locust."""

# The environment variable that hands the seeded listing ids and guest emails (a JSON file) to the Locust process.
SEED_FILE = "LANGO_LOAD_SEED"
# The password every seeded guest signs in with.
GUEST_PASSWORD = "load test password 1"

"""Security primitives: signing keys and tokens, passwords, rate limits, and who may call what."""

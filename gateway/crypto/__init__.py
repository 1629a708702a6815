"""Cryptographic building blocks with no dependency on the rest of the gateway: base64url, signing key rings,
sealing secrets at rest."""

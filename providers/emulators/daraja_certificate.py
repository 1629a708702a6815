"""The Daraja emulator's own initiator certificate: what Safaricom's public certificate is to a live deployment."""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

_KEY_BITS = 2048
_VALID_FOR = timedelta(days=365)


@dataclass(frozen=True)
class InitiatorCertificate:
    """A key pair made when the emulator starts; deployments encrypt initiator passwords with its certificate."""

    private_key: rsa.RSAPrivateKey
    certificate_pem: str

    def decrypt_credential(self, credential: str) -> str | None:
        """The initiator password inside a SecurityCredential, or None when it is not one this key opens."""
        try:
            sealed = base64.b64decode(credential, validate=True)
            return self.private_key.decrypt(sealed, padding.PKCS1v15()).decode()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None


def issue_initiator_certificate(common_name: str = "Lango Daraja emulator") -> InitiatorCertificate:
    """A fresh RSA key and its self-signed certificate (CPU-bound for a few tens of milliseconds)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _VALID_FOR)
        .sign(key, hashes.SHA256())
    )
    return InitiatorCertificate(key, certificate.public_bytes(serialization.Encoding.PEM).decode())

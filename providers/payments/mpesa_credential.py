"""Daraja's SecurityCredential: the initiator password encrypted with Safaricom's certificate, base64-encoded."""

import base64
from pathlib import Path
from typing import Annotated

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import AfterValidator

_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


def _certificate_text(value: str) -> str:
    """PEM text as it is, or the PEM/DER file a path names, as PEM; refused unless it holds an RSA certificate."""
    if _PEM_BEGIN not in value:
        path = Path(value)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise ValueError(f"no certificate file at {value!r}: {error.strerror}") from None
        value = raw.decode() if _PEM_BEGIN.encode() in raw else _der_to_pem(raw)
    load_certificate(value)
    return value


def _der_to_pem(raw: bytes) -> str:
    try:
        certificate = x509.load_der_x509_certificate(raw)
    except ValueError:
        raise ValueError("the file is neither a PEM nor a DER certificate") from None
    return certificate.public_bytes(Encoding.PEM).decode()


def load_certificate(pem: str) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM certificate; ValueError when it is not one."""
    try:
        key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    except ValueError:
        raise ValueError("not a PEM certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the certificate's key is not RSA")
    return key


def security_credential(password: str, public_key: rsa.RSAPublicKey) -> str:
    """base64(RSA PKCS#1 v1.5 encryption of the initiator password), as Safaricom's Daraja portal makes it."""
    return base64.b64encode(public_key.encrypt(password.encode(), padding.PKCS1v15())).decode()


# Safaricom's certificate in the settings: PEM text, or the path to it (read once, when the settings are loaded).
Certificate = Annotated[str, AfterValidator(_certificate_text)]

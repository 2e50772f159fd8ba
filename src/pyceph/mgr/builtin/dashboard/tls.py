"""TLS material of the dashboard: a self-signed certificate and the server context.

As upstream (`module.py` create_self_signed_cert, `_configure` ssl): the certificate
and key are PEM text in the module's KV store (``crt``/``key``, or per mgr
``<mgr id>/crt``), made by ``ceph dashboard create-self-signed-cert`` (CN
``ceph-dashboard``, RSA, `CERT_DAYS` days) or given with
``set-ssl-certificate[-key] -i``. Plain functions: PEM in, PEM or a context out.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = ["CERT_DAYS", "KEY_BITS", "TlsError", "make_self_signed", "server_context"]

#: validity of a self-signed certificate (upstream: 10 years)
CERT_DAYS = 3650
#: RSA key size of a self-signed certificate
KEY_BITS = 2048
#: the certificate's common name and organization, as upstream
COMMON_NAME = "ceph-dashboard"
ORGANIZATION = "IT"


class TlsError(ValueError):
    """The certificate or key cannot be used."""


def make_self_signed(hostnames: tuple[str, ...] = ("localhost",)) -> tuple[str, str]:
    """A new (certificate PEM, private key PEM) pair, self-signed."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]

    alt.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return cert_pem, key_pem


def check_cert(pem: str) -> None:
    """`TlsError` unless `pem` is a PEM certificate."""
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except ValueError as e:
        raise TlsError(f"invalid certificate: {e}") from e


def check_key(pem: str) -> None:
    """`TlsError` unless `pem` is a PEM private key."""
    try:
        serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as e:
        raise TlsError(f"invalid private key: {e}") from e


def server_context(cert_pem: str, key_pem: str) -> ssl.SSLContext:
    """A server-side context serving `cert_pem` with `key_pem` (TLS 1.2+)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # the ssl module loads a chain from files only: a private temporary directory
    with tempfile.TemporaryDirectory(prefix="dashboard-tls-") as d:
        cert_path, key_path = os.path.join(d, "crt"), os.path.join(d, "key")
        for path, text in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as e:
            raise TlsError(f"certificate and key do not match: {e}") from e
    return ctx

"""The practice cluster's CA and serving certificate: made on first start, reused afterwards."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _san_entry(name: str):
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _names_in(cert_path: Path) -> set:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except (OSError, ValueError, x509.ExtensionNotFound):
        return set()


def ensure_certificates(state: Path, address: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """(ca.crt, server.crt, server.key) in ``state``, valid ten years. The CA is made once and kept, so every
    kubeconfig handed out keeps trusting the server; the serving certificate is made again, by the same CA, when it
    does not name ``address`` (the address learners connect to, `practice serve --address`)."""
    ca_crt, ca_file, srv_crt, srv_key = state / "ca.crt", state / "ca.key", state / "server.crt", state / "server.key"
    wanted = [
        x509.DNSName("localhost"),
        x509.DNSName("api.practice.local"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    if _san_entry(address) not in wanted:
        wanted.append(_san_entry(address))
    have_ca = ca_crt.exists() and ca_file.exists()
    if have_ca and srv_crt.exists() and srv_key.exists() and set(wanted) <= _names_in(srv_crt):
        return ca_crt, srv_crt, srv_key
    now = dt.datetime.now(dt.UTC)
    later = now + dt.timedelta(days=3650)
    if have_ca:
        ca = x509.load_pem_x509_certificate(ca_crt.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_file.read_bytes(), password=None)
        ca_name = ca.subject
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clearml-lab practice cluster CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(later)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.practice.local")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(later)
        .add_extension(x509.SubjectAlternativeName(wanted), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    state.mkdir(parents=True, exist_ok=True)
    if not have_ca:
        _write_private(ca_file, _key_pem(ca_key))
        ca_crt.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_private(srv_key, _key_pem(key))
    srv_crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca_crt, srv_crt, srv_key

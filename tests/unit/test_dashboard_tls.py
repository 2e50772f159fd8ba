"""The dashboard's TLS material without a cluster: a self-signed certificate that a
client trusting it verifies (for 127.0.0.1 and localhost), and refused bad input."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest
from cryptography import x509

from pyceph.mgr.builtin.dashboard import tls
from pyceph.mgr.builtin.dashboard.module import server_uri

#: bound on the handshake
HANDSHAKE_TIMEOUT = 10.0


def test_self_signed_certificate_serves_a_verified_handshake() -> None:
    cert, key = tls.make_self_signed()
    parsed = x509.load_pem_x509_certificate(cert.encode())
    cn = parsed.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert cn == "ceph-dashboard"
    server_ctx = tls.server_context(cert, key)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        errors: list[BaseException] = []

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                conn.settimeout(HANDSHAKE_TIMEOUT)
                with server_ctx.wrap_socket(conn, server_side=True) as s:
                    s.sendall(b"ok")
            except BaseException as e:  # reported by the test thread
                errors.append(e)

        t = threading.Thread(target=serve)
        t.start()
        client_ctx = ssl.create_default_context(cadata=cert)
        raw = socket.create_connection(("127.0.0.1", port), timeout=HANDSHAKE_TIMEOUT)
        with client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.recv(2) == b"ok"
        t.join(HANDSHAKE_TIMEOUT)
        assert not errors


def test_bad_material_is_refused() -> None:
    cert, key = tls.make_self_signed()
    other_cert, _ = tls.make_self_signed()
    with pytest.raises(tls.TlsError):
        tls.check_cert("junk")
    with pytest.raises(tls.TlsError):
        tls.check_key(cert)
    tls.check_cert(cert)
    tls.check_key(key)
    with pytest.raises(tls.TlsError):
        tls.server_context(other_cert, key)


def test_server_uri_as_mgr_services_shows_it() -> None:
    assert server_uri(True, "::", 8443, "10.0.0.5") == "https://10.0.0.5:8443/"
    assert server_uri(False, "127.0.0.1", 8080, "x") == "http://127.0.0.1:8080/"
    assert server_uri(True, "fe80::1", 8443, "x") == "https://[fe80::1]:8443/"

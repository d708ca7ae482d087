"""The transport goes through the proxy the environment names, as requests did: HTTP_PROXY for
an http endpoint (the proxy forwards the request, with the credentials in its URL), HTTPS_PROXY
for an https endpoint (a CONNECT tunnel, TLS end to end), never for a host NO_PROXY names, and
a SOCKS proxy without PySocks is a clear error, not a traceback."""

from __future__ import annotations

import http.client
import http.server
import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from reconciler import errors
from reconciler.client.credentials import Credentials
from reconciler.client.transport import Transport, TransportConfig
from reconciler.emulator.testing import EmulatorHandle
from reconciler.errors import UsageError

from .conftest import AK, CREDS, TLS_CERT, ScriptedServer, ok


@dataclass
class ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1: what it forwarded, and the auth it was given."""

    url: str
    seen: list[str] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    found = ForwardProxy("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            found.seen.append(f"{self.command} {self.path}")
            found.auth.append(self.headers.get("Proxy-Authorization"))
            target = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("proxy-")}
            conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
            path = target.path + (f"?{target.query}" if target.query else "")
            conn.request(self.command, path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def do_CONNECT(self) -> None:
            """A tunnel: answer 200, then relay bytes both ways until one side closes."""
            found.seen.append(f"CONNECT {self.path}")
            found.auth.append(self.headers.get("Proxy-Authorization"))
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host, int(port)), timeout=10)
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            ends = [self.connection, upstream]
            with upstream:
                while True:
                    readable, _, _ = select.select(ends, [], [], 10)
                    if not readable:
                        return
                    for end in readable:
                        data = end.recv(65536)
                        if not data:
                            return
                        (upstream if end is self.connection else self.connection).sendall(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


def credentials(emulator: EmulatorHandle) -> Credentials:
    return Credentials(emulator.access_key_id, emulator.secret_access_key)


def test_requests_go_through_the_environments_proxy_with_its_credentials(
    emulator: EmulatorHandle, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = proxy.url.removeprefix("http://")
    monkeypatch.setenv("HTTP_PROXY", f"http://someone:s%40cret@{authority}")
    with Transport(emulator.url, credentials(emulator)) as transport:
        answer = transport.request("GET", "/v1/cluster", {"maxKeys": "10"})
    assert answer.status == 200
    assert proxy.seen == [f"GET {emulator.url}/v1/cluster?maxKeys=10"]
    assert proxy.auth == ["Basic c29tZW9uZTpzQGNyZXQ="]  # someone:s@cret


def test_an_https_endpoint_goes_through_the_proxys_connect_tunnel(
    tls_server: ScriptedServer, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = proxy.url.removeprefix("http://")
    monkeypatch.setenv("HTTPS_PROXY", f"http://someone:s%40cret@{authority}")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(TLS_CERT))
    tls_server.script(ok({"clusters": []}, "rid-1"), ok({"clusterUuid": "c-1"}, "rid-2"))
    with Transport(tls_server.url, CREDS) as transport:
        assert transport.request("GET", "/v1/cluster", {"maxKeys": "10"}).data == {"clusters": []}
        created = transport.request("POST", "/v1/cluster", body={}, idempotent=False)
    assert created.request_id == "rid-2"
    endpoint = tls_server.url.removeprefix("https://")
    # the server closes each TLS connection ("Connection: close"): one tunnel per request
    assert proxy.seen == [f"CONNECT {endpoint}"] * 2
    assert proxy.auth == ["Basic c29tZW9uZTpzQGNyZXQ="] * 2  # someone:s@cret
    assert [(s.verified, s.raw_query) for s in tls_server.seen] == [(AK, "maxKeys=10"), (AK, "")]
    assert tls_server.seen[0].headers["Host"] == endpoint
    assert "Proxy-Authorization" not in tls_server.seen[0].headers


def test_a_proxy_refusing_the_tunnel_is_a_connection_error_and_nothing_was_sent(
    tls_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy that answers CONNECT with 403 (here: one that knows no CONNECT, 501)."""

    class NoTunnel(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoTunnel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(TLS_CERT))
        with Transport(tls_server.url, CREDS, TransportConfig(max_attempts=1)) as transport:
            with pytest.raises(errors.ConnectionFailedError) as info:
                transport.request("POST", "/v1/cluster", body={}, idempotent=False)
    finally:
        server.shutdown()
        server.server_close()
    assert not isinstance(info.value, errors.OutcomeUnknownError)
    assert "through the proxy http://127.0.0.1:" in info.value.message
    assert "501" in info.value.message
    assert tls_server.count() == 0


def test_no_proxy_keeps_a_host_off_the_proxy(
    emulator: EmulatorHandle, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.0/8")
    with Transport(emulator.url, credentials(emulator)) as transport:
        assert transport.request("GET", "/v1/cluster").status == 200
    assert proxy.seen == []


def test_a_socks_proxy_without_pysocks_is_a_usage_error(
    emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        import socks  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("PySocks is installed here")
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(UsageError, match="SOCKS proxy, which needs PySocks"):
        Transport(emulator.url, credentials(emulator))

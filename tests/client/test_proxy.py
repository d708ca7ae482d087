"""The transport goes through the proxy the environment names, as requests did: HTTP_PROXY for
an http endpoint (with the credentials in its URL), never for a host NO_PROXY names, and a
SOCKS proxy without PySocks is a clear error, not a traceback."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.transport import Transport
from reconciler.emulator.testing import EmulatorHandle
from reconciler.errors import UsageError


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

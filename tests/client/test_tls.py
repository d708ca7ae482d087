"""The transport over HTTPS: a server with the self-signed certificate of tests/data/tls (made
with the openssl CLI, see its README.md) is trusted through ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE``, and refused with a clear connection error, never a traceback, when nothing
trusts it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import errors
from reconciler.cli import main
from reconciler.client.transport import Transport

from .conftest import AK, CREDS, TLS_CERT, FakeTime, ScriptedServer, make_transport, ok


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_server_the_bundle_trusts_answers(
    tls_server: ScriptedServer,
    fake_time: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    host: str,
) -> None:
    monkeypatch.setenv(variable, str(TLS_CERT))
    url = tls_server.url.replace("127.0.0.1", host)
    tls_server.script(ok({"clusters": []}, "rid-1"), ok({"clusterUuid": "c-1"}, "rid-2"))
    with make_transport(url, fake_time) as t:
        assert t.request("GET", "/v1/cluster", {"status": "RUNNING"}).data == {"clusters": []}
        created = t.request("POST", "/v1/cluster", body={"clusterName": "a"}, idempotent=False)
    assert (created.data, created.request_id) == ({"clusterUuid": "c-1"}, "rid-2")
    assert [seen.verified for seen in tls_server.seen] == [AK, AK]
    assert tls_server.seen[0].headers["Host"] == url.removeprefix("https://")
    assert tls_server.seen[0].raw_query == "status=RUNNING"
    # werkzeug answers "Connection: close" over TLS: each request had a connection of its own
    assert len(tls_server.client_ports) == 2


def test_an_untrusted_certificate_is_a_connection_error_saying_so(
    tls_server: ScriptedServer, fake_time: FakeTime
) -> None:
    """Nothing names a bundle: certifi's CAs do not trust a self-signed certificate. The
    request never left, so even a create is a plain connection error, not an unknown outcome."""
    with make_transport(tls_server.url, fake_time, max_attempts=2) as t:
        with pytest.raises(errors.ConnectionFailedError) as info:
            t.request("POST", "/v1/cluster", body={}, idempotent=False)
    assert not isinstance(info.value, errors.OutcomeUnknownError)
    message = info.value.message
    assert message.startswith(f"could not connect to {tls_server.url.removeprefix('https://')}")
    assert "certificate is not trusted" in message and "REQUESTS_CA_BUNDLE" in message
    assert tls_server.count() == 0


def test_a_bundle_that_cannot_be_read_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(errors.UsageError, match=r"the CA bundle .*missing\.pem cannot be read"):
        Transport("https://cce.bj.baidubce.com", CREDS)


def test_plan_against_an_untrusted_endpoint_says_why_without_a_traceback(
    tls_server: ScriptedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "main.yaml"
    config.write_text(
        f"target:\n  endpoint: {tls_server.url}\n"
        "users:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}\n"
    )
    monkeypatch.setenv("CCR_PASSWORD", "Passw0rd-tls")
    monkeypatch.setenv("BCE_ACCESS_KEY_ID", AK)
    monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", "SKtest")
    with pytest.raises(SystemExit) as done:
        main(["plan", "--retry-budget", "0", "--no-color", str(config)])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "certificate is not trusted" in err and "REQUESTS_CA_BUNDLE" in err
    assert "Traceback" not in err
    assert tls_server.count() == 0

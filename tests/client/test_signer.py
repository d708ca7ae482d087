"""bce-auth-v1: the official vectors, the extra CCE vectors, a differential test against the
official ``bce-python-sdk`` signer, and the verifier the emulator uses."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from baidubce.auth import bce_v1_signer
from baidubce.auth.bce_credentials import BceCredentials

from reconciler.client import signer

AK = "a" * 32
SK = "b" * 32
SECRETS = {AK: SK}

BOS_PATH = "/v1/test/myfolder/readme.txt"
BOS_QUERY = {"partNumber": "9", "uploadId": "a44cc9bab11cbd156984767aad637851"}
BOS_HEADERS = {
    "Host": "bj.bcebos.com",
    "Date": "Mon, 27 Apr 2015 16:23:49 +0800",
    "Content-Type": "text/plain",
    "Content-Length": "8",
    "Content-Md5": "NFzcPqhviddjRNnSOGo4rw==",
    "x-bce-date": "2015-04-27T08:23:49Z",
}
BOS_TS = signer.parse_timestamp("2015-04-27T08:23:49Z")
PREFIX = f"bce-auth-v1/{AK}/2015-04-27T08:23:49Z/1800"

CCE_TS = signer.parse_timestamp("2019-03-11T04:17:29Z")
CCE_HEADERS = {"Host": "cce.bj.baidubce.com", "x-bce-date": "2019-03-11T04:17:29Z"}
CCE_PREFIX = f"bce-auth-v1/{AK}/2019-03-11T04:17:29Z/1800"


# --- section 3.7: the official vector and the secondary vectors, byte for byte --------------


def test_official_vector_signing_key_and_canonical_request() -> None:
    key = signer._hmac_hex(SK.encode(), PREFIX)
    assert key == "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479"
    assert signer.canonical_request("PUT", BOS_PATH, BOS_QUERY, BOS_HEADERS, None) == (
        "PUT\n"
        "/v1/test/myfolder/readme.txt\n"
        "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\n"
        "content-length:8\n"
        "content-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D\n"
        "content-type:text%2Fplain\n"
        "host:bj.bcebos.com\n"
        "x-bce-date:2015-04-27T08%3A23%3A49Z"
    )


def test_official_vector_authorization() -> None:
    auth = signer.sign(AK, SK, "PUT", BOS_PATH, BOS_QUERY, BOS_HEADERS, BOS_TS)
    assert auth == (f"{PREFIX}//d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e")


@pytest.mark.parametrize(
    ("query", "timestamp", "signed", "expected"),
    [
        pytest.param(
            BOS_QUERY,
            BOS_TS,
            ["host", "x-bce-date"],
            f"{PREFIX}/host;x-bce-date/"
            "1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32",
            id="host;x-bce-date",
        ),
        pytest.param(
            None,
            BOS_TS,
            None,
            f"{PREFIX}//0558aac491bbef484d3aaa30ac1e65d4ff10daccd351f15c91e922ee4ce72690",
            id="no-query",
        ),
        pytest.param(
            BOS_QUERY,
            signer.parse_timestamp("2012-11-01T22:08:41Z"),
            ["content-length", "content-md5", "content-type", "host", "x-bce-date"],
            f"bce-auth-v1/{AK}/2012-11-01T22:08:41Z/1800/"
            "content-length;content-md5;content-type;host;x-bce-date/"
            "b47ae03e099e2a1553ef56fbba0c23fd5b632c99bc118df7f652b0fe1b4c5988",
            id="2012-timestamp",
        ),
    ],
)
def test_secondary_vectors(
    query: dict[str, str] | None, timestamp: datetime, signed: list[str] | None, expected: str
) -> None:
    auth = signer.sign(
        AK, SK, "PUT", BOS_PATH, query, BOS_HEADERS, timestamp, signed_headers=signed
    )
    assert auth == expected


def test_query_canonicalisation_vector() -> None:
    query = {"text": "", "text1": "测试", "text10": "test"}
    assert signer.canonical_query(query) == "text10=test&text1=%E6%B5%8B%E8%AF%95&text="


def test_canonical_uri_vector() -> None:
    assert signer.canonical_uri("/example/测试") == "/example/%E6%B5%8B%E8%AF%95"
    assert signer.canonical_uri("") == "/"
    assert signer.canonical_uri("v1/a b") == "/v1/a%20b"


# --- section 3.7: the extra CCE-shaped vectors (self-generated regression values) ------------

CCE_JSON = {**CCE_HEADERS, "Content-Type": "application/json;charset=utf-8"}


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "signed", "expected"),
    [
        (
            "GET",
            "/v1/cluster",
            {"status": "RUNNING"},
            CCE_HEADERS,
            ["host", "x-bce-date"],
            "a739d4705bd7a4bc8a38cc0b9922774ddea7d78d9a4b1ae77f2d377d7d60b2a7",
        ),
        (
            "POST",
            "/v1/cluster",
            {"scalingUp": ""},
            CCE_JSON,
            ["content-type", "host", "x-bce-date"],
            "95da48cced6c5af311edde3a39dc3b2e0e2e20adf4e990cab7ae61b8310617b5",
        ),
        (
            "DELETE",
            "/v1/cluster/c-qBH9sE28",
            {"deleteEipCds": "true", "deleteSnap": "false"},
            CCE_HEADERS,
            None,
            "941f97f9e7e017f0a4c50006c1725f1da884dd97b34f614fdaad83162b46bde0",
        ),
        (
            "GET",
            "/v1/image/namespace/my-ns",
            None,
            CCE_HEADERS,
            ["host", "x-bce-date"],
            "e6844c9a506974e42795bee3f469b2c8d89f37fe78abf21fa4c72b0b8245993b",
        ),
    ],
    ids=["list-running", "scaling-up", "delete-default-headers", "namespace-no-query"],
)
def test_cce_vectors(
    method: str,
    path: str,
    query: dict[str, str] | None,
    headers: dict[str, str],
    signed: list[str] | None,
    expected: str,
) -> None:
    auth = signer.sign(AK, SK, method, path, query, headers, CCE_TS, signed_headers=signed)
    assert auth == f"{CCE_PREFIX}/{';'.join(signed or [])}/{expected}"


def test_key_without_value_signs_as_key_equals() -> None:
    assert signer.canonical_query([("scalingUp", None)]) == "scalingUp="


# --- differential: our signer against the official bce-python-sdk ---------------------------

METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")
ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
RESERVED = "-._~!*'();:@&=+$,/?#[]% \"<>\\^`{|}"
UNICODE = "测试éß€😀\u00a0\u3000ёж"
HOSTS = ("cce.bj.baidubce.com", "127.0.0.1:8765", "[::1]:8080", "cce.gz.baidubce.com:443")
OPTIONAL_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Content-MD5",
    "x-bce-date",
    "x-bce-request-id",
    "x-bce-security-token",
    "X-Bce-Meta-Owner",
    "Date",
    "User-Agent",
    "x-custom",
)


def _text(rng: random.Random, alphabets: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabets) for _ in range(rng.randint(low, high)))


def _path(rng: random.Random) -> str:
    segments = [_text(rng, ASCII + RESERVED.replace("/", "") + UNICODE, 0, 8) for _ in range(4)]
    return "/" + "/".join(segments[: rng.randint(0, 4)])


def _query(rng: random.Random) -> dict[str, str | None]:
    query: dict[str, str | None] = {}
    for _ in range(rng.randint(0, 5)):
        key = _text(rng, ASCII + RESERVED + UNICODE, 1, 6)
        if key.lower() == "authorization":  # excluded by us; the SDK's exclusion is a no-op
            continue
        query[key] = rng.choice([None, "", _text(rng, ASCII + RESERVED + UNICODE, 0, 10)])
    return query


def _header_value(rng: random.Random) -> str:
    pad = rng.choice(["", " ", "\t", "  "])
    return pad + _text(rng, ASCII + RESERVED + UNICODE, 0, 12) + rng.choice(["", " ", pad])


def _headers(rng: random.Random) -> dict[str, str]:
    headers = {rng.choice(["Host", "host", "HOST"]): rng.choice(HOSTS)}
    for name in rng.sample(OPTIONAL_HEADERS, rng.randint(0, len(OPTIONAL_HEADERS))):
        headers[name] = _header_value(rng)
    return headers


def _signed_list(rng: random.Random, headers: dict[str, str]) -> list[str] | None:
    """None (the default set), or an explicit sorted list including every x-bce-* header,
    since the SDK always signs those."""
    if rng.random() < 0.3:
        return None
    names = [n.lower() for n in headers]
    chosen = {n for n in names if n.startswith("x-bce-") or rng.random() < 0.5}
    if rng.random() < 0.1:
        chosen.add("content-md5")  # listed but possibly absent: skipped by both
    return sorted(chosen) or ["host"]


def _sdk_sign(
    method: str,
    path: str,
    query: dict[str, str | None],
    headers: dict[str, str],
    epoch: int,
    expiration: int,
    signed: list[str] | None,
) -> str:
    def b(text: str | None) -> bytes | None:
        return None if text is None else text.encode("utf-8")

    result = bce_v1_signer.sign(
        BceCredentials(AK.encode(), SK.encode()),
        method.encode(),
        signer.canonical_uri(path).encode(),
        {k.encode(): v.encode() for k, v in headers.items()},
        {k.encode(): b(v) for k, v in query.items()},
        timestamp=epoch,
        expiration_in_seconds=expiration,
        headers_to_sign=None if signed is None else [h.encode() for h in signed],
    )
    assert isinstance(result, bytes)
    return result.decode()


def test_differential_against_official_sdk() -> None:
    rng = random.Random(20240611)
    for case in range(1200):
        method = rng.choice(METHODS)
        path, query, headers = _path(rng), _query(rng), _headers(rng)
        epoch = rng.randint(1, 2**31 - 1)
        expiration = rng.choice([1800, 1, 60, 86400, rng.randint(1, 10**6)])
        signed = _signed_list(rng, headers)
        ours = signer.sign(
            AK,
            SK,
            method,
            path,
            query,
            headers,
            datetime.fromtimestamp(epoch, UTC),
            expiration,
            signed,
        )
        theirs = _sdk_sign(method, path, query, headers, epoch, expiration, signed)
        assert ours == theirs, f"case {case}: {method} {path!r} {query!r} {headers!r} {signed!r}"


# --- the verifier (used by the emulator) ----------------------------------------------------

NOW = datetime(2024, 6, 11, 12, 0, 0, tzinfo=UTC)
REQ_PATH = "/v1/image/namespace/测试 ns"
REQ_QUERY = {"user": "ccetest", "scalingUp": ""}
REQ_HEADERS = {
    "Host": "127.0.0.1:8765",
    "Content-Type": "application/json; charset=utf-8",
    "x-bce-date": signer.format_timestamp(NOW),
}
REQ_SIGNED = ["content-type", "host", "x-bce-date"]


def _secret_for(ak: str) -> str | None:
    return SECRETS.get(ak)


def _sign_request(
    signed: list[str] | None = REQ_SIGNED, timestamp: datetime = NOW, expiration: int = 1800
) -> str:
    return signer.sign(
        AK, SK, "POST", REQ_PATH, REQ_QUERY, REQ_HEADERS, timestamp, expiration, signed
    )


def _verify(
    auth: str | None,
    method: str = "POST",
    path: str = REQ_PATH,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    now: datetime = NOW,
) -> str:
    return signer.verify(
        auth,
        method,
        path,
        REQ_QUERY if query is None else query,
        REQ_HEADERS if headers is None else headers,
        _secret_for,
        now,
    )


@pytest.mark.parametrize("signed", [REQ_SIGNED, None, ["host"], ["host", "x-bce-date"]])
def test_verifier_accepts_our_signatures(signed: list[str] | None) -> None:
    assert _verify(_sign_request(signed)) == AK


def test_verifier_accepts_random_signatures() -> None:
    rng = random.Random(7)
    for _ in range(200):
        method, path, query, headers = rng.choice(METHODS), _path(rng), _query(rng), _headers(rng)
        signed = _signed_list(rng, headers)
        auth = signer.sign(AK, SK, method, path, query, headers, NOW, 1800, signed)
        assert signer.verify(auth, method, path, query, headers, _secret_for, NOW) == AK


def test_verifier_accepts_the_python_sdk_quirk() -> None:
    """headers_to_sign=[host] with x-bce-date present: the SDK signs x-bce-date anyway but
    lists only host (cce-v1-api.md 3.8)."""
    epoch = int(BOS_TS.timestamp())
    auth = _sdk_sign("PUT", BOS_PATH, dict(BOS_QUERY), BOS_HEADERS, epoch, 1800, ["host"])
    assert auth == (
        f"{PREFIX}/host/1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32"
    )
    strict = signer.sign(AK, SK, "PUT", BOS_PATH, BOS_QUERY, BOS_HEADERS, BOS_TS, 1800, ["host"])
    assert strict.endswith("5bdedf6ba2b3d6998c37e2727ee3644ad2ad55e6fdb4f527ecec1affd87dbbab")
    for accepted in (auth, strict):
        assert (
            signer.verify(accepted, "PUT", BOS_PATH, BOS_QUERY, BOS_HEADERS, _secret_for, BOS_TS)
            == AK
        )


@pytest.mark.parametrize(
    "tamper",
    [
        {"path": "/v1/image/namespace/测试 nt"},
        {"method": "PUT"},
        {"query": {"user": "ccetest2", "scalingUp": ""}},
        {"query": {"user": "ccetest"}},
        {"headers": {**REQ_HEADERS, "Host": "127.0.0.1:8766"}},
        {"headers": {**REQ_HEADERS, "Content-Type": "text/plain"}},
        {"headers": {**REQ_HEADERS, "x-bce-date": "2024-06-11T12:00:01Z"}},
    ],
    ids=["path", "method", "query-value", "query-key", "host", "content-type", "date-header"],
)
def test_verifier_rejects_tampering(tamper: dict[str, object]) -> None:
    with pytest.raises(signer.VerificationError) as info:
        _verify(_sign_request(), **tamper)  # type: ignore[arg-type]
    assert info.value.code == "SignatureDoesNotMatch"


def test_verifier_rejects_tampered_timestamp_in_auth_string() -> None:
    auth = _sign_request().replace("2024-06-11T12:00:00Z", "2024-06-11T12:00:01Z")
    with pytest.raises(signer.VerificationError) as info:
        _verify(auth)
    assert info.value.code == "SignatureDoesNotMatch"


def test_verifier_rejects_a_wrong_secret() -> None:
    auth = signer.sign(AK, "c" * 32, "POST", REQ_PATH, REQ_QUERY, REQ_HEADERS, NOW)
    with pytest.raises(signer.VerificationError) as info:
        _verify(auth)
    assert info.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("timestamp", "expiration", "now"),
    [
        (NOW, 1800, NOW + timedelta(seconds=1801)),
        (NOW, 60, NOW + timedelta(minutes=2)),
        (NOW + timedelta(hours=1), 1800, NOW),  # too far in the future
    ],
    ids=["expired", "short-expiration", "future"],
)
def test_verifier_rejects_expired(timestamp: datetime, expiration: int, now: datetime) -> None:
    with pytest.raises(signer.VerificationError) as info:
        _verify(_sign_request(timestamp=timestamp, expiration=expiration), now=now)
    assert info.value.code == "RequestExpired"


def test_verifier_accepts_at_the_edge_of_expiry() -> None:
    assert _verify(_sign_request(), now=NOW + timedelta(seconds=1800)) == AK


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "",
        "garbage",
        "Bearer abc",
        "bce-auth-v2/ak/2024-06-11T12:00:00Z/1800//" + "0" * 64,
        f"bce-auth-v1/{AK}/2024-06-11T12:00:00Z/1800/host",
        "bce-auth-v1//2024-06-11T12:00:00Z/1800//" + "0" * 64,
        f"bce-auth-v1/{AK}/yesterday/1800//" + "0" * 64,
        f"bce-auth-v1/{AK}/2024-06-11T12:00:00Z/soon//" + "0" * 64,
        f"bce-auth-v1/{AK}/2024-06-11T12:00:00Z/-5//" + "0" * 64,
        f"bce-auth-v1/{AK}/2024-06-11T12:00:00Z/1800//abc",
    ],
)
def test_verifier_rejects_garbled_headers(auth: str | None) -> None:
    with pytest.raises(signer.VerificationError) as info:
        _verify(auth)
    assert info.value.code == "InvalidHTTPAuthHeader"


def test_verifier_rejects_unknown_access_key() -> None:
    auth = signer.sign("z" * 32, SK, "POST", REQ_PATH, REQ_QUERY, REQ_HEADERS, NOW)
    with pytest.raises(signer.VerificationError) as info:
        _verify(auth)
    assert info.value.code == "InvalidAccessKeyId"


def test_signer_never_logs_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="reconciler.client.signer")
    _sign_request()
    assert "canonical request" in caplog.text
    assert SK not in caplog.text

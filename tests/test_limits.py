"""Request limits: the body-size cap (413, checked before and while the body streams, through
TestClient and a real server), the larger cap of bulk import, and the rate limit on failed
authentications (429)."""

from __future__ import annotations

import json
import select
import socket
import time
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from servers import serve_app

from api import throttle
from api.app import create_app
from api.limits import DEFAULT_BODY_BYTES, DEFAULT_IMPORT_BYTES, MIB, Limits
from matcher.settings import load_settings
from matcher.store import Store

IMPORT = "/api/v1/import"
OTHER = "/api/v1/matches"  # any route with a JSON body


@pytest.fixture
def app(demo_copy):
    return create_app(load_settings(db=demo_copy))


@pytest.fixture
def client(app, admin):
    with TestClient(app, headers=admin) as test_client:
        yield test_client


@pytest.fixture
def fresh_failures():
    """Failed authentications are counted per process: start and leave with none."""
    throttle.reset_failures()
    yield
    throttle.reset_failures()


def big_document(size: int) -> bytes:
    """A valid exchange document of at least ``size`` bytes (new associations)."""
    associations, length, i = [], 0, 0
    while length < size:
        record = {"id": f"a-big-{i}", "name": f"Big association {i}", "country": "GH",
                  "description": "d" * 5000}
        associations.append(record)
        length += len(json.dumps(record)) + 2
        i += 1
    return json.dumps({"partners": [], "associations": associations}).encode()


def chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


# ---------------------------------------------------------------------- body size
def test_defaults_are_one_mib_and_twenty_for_import():
    limits = Limits()

    assert limits.for_path(OTHER) == DEFAULT_BODY_BYTES == MIB
    assert limits.for_path(IMPORT) == DEFAULT_IMPORT_BYTES == 20 * MIB
    assert limits.for_path(IMPORT + "/") == DEFAULT_IMPORT_BYTES


def test_limits_come_from_settings():
    limits = Limits.from_settings(SimpleNamespace(max_body_bytes=1000, max_import_bytes=5000))

    assert limits.for_path(OTHER) == 1000 and limits.for_path(IMPORT) == 5000
    assert Limits.from_settings(SimpleNamespace()) == Limits()


@pytest.mark.parametrize("url", [OTHER, IMPORT, "/health"])
def test_declared_length_over_the_cap_is_413_before_anything_else(app, url):
    limit = Limits().for_path(url)
    with TestClient(app) as anonymous:  # not even authenticated: refused first
        response = anonymous.post(url, content=b"x" * (limit + 1),
                                  headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


@pytest.mark.parametrize("url", [OTHER, IMPORT])
def test_streamed_body_over_the_cap_is_413(client, url):
    limit = Limits().for_path(url)

    response = client.post(url, content=chunks(limit + 1),
                           headers={"Content-Type": "application/json"})

    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_import_takes_more_than_the_general_cap(client, demo_copy):
    body = big_document(int(1.5 * MIB))

    assert client.post(OTHER, content=body,
                       headers={"Content-Type": "application/json"}).status_code == 413
    response = client.post(IMPORT, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200, response.text[:300]
    assert response.json()["inserted"]["associations"] > 200


def test_import_over_its_cap_writes_nothing(app, client, demo_copy):
    app.state.limits = Limits(body_bytes=1000, by_path={IMPORT: 100_000})
    body = big_document(150_000)
    counts = Store(demo_copy).counts()

    response = client.post(IMPORT, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert "100000 bytes" in response.json()["detail"]
    assert Store(demo_copy).counts() == counts
    assert client.post(IMPORT, content=big_document(50_000),
                       headers={"Content-Type": "application/json"}).status_code == 200


# ---------------------------------------------------------------------- a real server
@pytest.fixture
def server(app, admin):
    """A real uvicorn server on loopback, with small caps (64 KiB; 256 KiB for import)."""
    app.state.limits = Limits(body_bytes=64 * 1024, by_path={IMPORT: 256 * 1024})
    with serve_app(app) as url:
        yield int(url.rsplit(":", 1)[1]), admin["Authorization"]


def _response_head(conn: socket.socket) -> bytes:
    data = b""
    conn.settimeout(10)
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            break
        data += part
    return data


def test_real_server_refuses_a_huge_declared_body_without_reading_it(server):
    port, auth = server
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(f"POST {IMPORT} HTTP/1.1\r\nHost: test\r\nAuthorization: {auth}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {10**12}\r\n\r\n"
                     .encode())
        started = time.monotonic()
        head = _response_head(conn)

    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("url,limit", [(IMPORT, 256 * 1024), (OTHER, 64 * 1024)])
def test_real_server_stops_reading_an_endless_chunked_body(server, url, limit):
    """The client would stream 256 MiB; the server answers 413 once it has counted just over
    the cap, and the client is stopped long before the end."""
    port, auth = server
    endless = 256 * MIB
    piece = b" " * 16384
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(f"POST {url} HTTP/1.1\r\nHost: test\r\nAuthorization: {auth}\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     .encode())
        conn.settimeout(2)
        try:
            while sent < endless and not select.select([conn], [], [], 0)[0]:
                conn.sendall(frame)
                sent += len(piece)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading
        head = _response_head(conn)

    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert limit < sent < 64 * MIB  # kernel buffers take a few MiB at most


# ---------------------------------------------------------------------- failed tokens
def test_many_bad_tokens_from_one_client_are_429(app, admin, fresh_failures):
    bad = {"Authorization": "Bearer dm_not-a-real-token"}
    with TestClient(app) as client:
        for _ in range(throttle.FAILURE_LIMIT):
            assert client.get("/api/v1/plugins", headers=bad).status_code == 401

        blocked = client.get("/api/v1/plugins", headers=bad)
        assert blocked.status_code == 429 and "too many" in blocked.json()["detail"]
        # only the guesses are refused: a valid token from the same address passes
        assert client.get("/api/v1/plugins", headers=admin).status_code == 200
        assert client.get("/api/v1/plugins", headers=bad).status_code == 429
        assert client.get("/health").status_code == 200  # no token needed, no limit

    with TestClient(app, client=("10.9.8.7", 50000)) as elsewhere:
        assert elsewhere.get("/api/v1/plugins", headers=bad).status_code == 401


def test_failed_tokens_are_forgotten_after_the_window(app, fresh_failures,
                                                      monkeypatch):
    monkeypatch.setattr(throttle, "FAILURE_WINDOW", 0.5)
    bad = {"Authorization": "Bearer dm_wrong"}
    with TestClient(app) as client:
        for _ in range(throttle.FAILURE_LIMIT):
            client.get("/api/v1/plugins", headers=bad)
        assert client.get("/api/v1/plugins", headers=bad).status_code == 429

        time.sleep(0.6)

        assert client.get("/api/v1/plugins", headers=bad).status_code == 401


def test_a_missing_token_is_401_and_not_counted(app, fresh_failures):
    with TestClient(app) as client:
        for _ in range(throttle.FAILURE_LIMIT + 5):
            assert client.get("/api/v1/plugins").status_code == 401

"""Responses go out compressed when the client asks, static files are cached, and the pages'
CSRF token differs on every page (so compression cannot reveal it): over real HTTP."""

from __future__ import annotations

import gzip

import httpx
import pytest

from api.pages.session import CSRF_FIELD
from tests.pages_support import csrf_of
from tests.servers import serve


@pytest.fixture(scope="module")
def base_url(demo_db):
    with serve(demo_db) as url:
        yield url


def raw_get(url: str, **headers: str) -> httpx.Response:
    """A GET whose body is left as sent (httpx would decode gzip)."""
    with httpx.Client() as client:
        request = client.build_request("GET", url, headers=headers)
        response = client.send(request, stream=True)
        response.raw_body = b"".join(response.iter_raw())
        response.close()
        return response


@pytest.mark.parametrize("path, kind", [("/signin", "text/html"),
                                        ("/static/app.css", "text/css"),
                                        ("/openapi.json", "application/json")])
def test_pages_styles_and_json_are_gzipped_when_asked(base_url, path, kind):
    zipped = raw_get(base_url + path, **{"Accept-Encoding": "gzip"})
    plain = raw_get(base_url + path, **{"Accept-Encoding": "identity"})
    assert zipped.status_code == plain.status_code == 200
    assert zipped.headers["content-type"].startswith(kind)
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert len(zipped.raw_body) < len(plain.raw_body) / 2
    if kind != "text/html":  # a page differs per request (its masked CSRF token)
        assert gzip.decompress(zipped.raw_body) == plain.raw_body
    assert zipped.headers["content-security-policy"] and zipped.headers["x-content-type-options"]


def test_a_small_answer_is_not_compressed(base_url):
    small = raw_get(base_url + "/health", **{"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "content-encoding" not in small.headers


def test_static_files_are_cached_for_a_day_and_pages_never(base_url):
    css = raw_get(base_url + "/static/app.css")
    assert css.headers["cache-control"] == "public, max-age=86400"
    assert css.headers["content-security-policy"]
    page = raw_get(base_url + "/signin")
    assert page.headers["cache-control"] == "no-store"


def test_the_csrf_token_differs_on_every_page_and_each_is_accepted(base_url):
    with httpx.Client(base_url=base_url) as client:
        first = csrf_of(client.get("/signin").text)
        second = csrf_of(client.get("/signin").text)
        assert first != second
        for token in (first, second):
            answer = client.post("/signin/password", data={
                CSRF_FIELD: token, "username": "nobody", "password": "wrong-password-here"},
                headers={"Origin": base_url}, follow_redirects=False)
            assert answer.status_code != 403 and "Form expired" not in answer.text
        forged = client.post("/signin/password", data={
            CSRF_FIELD: first[:64] + second[64:], "username": "nobody", "password": "x" * 12},
            headers={"Origin": base_url}, follow_redirects=False)
        assert forged.status_code == 403

"""Fixtures for the web wing: one application (and its worker pool) per test session."""

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jinja2")
pytest.importorskip("latex2mathml")
pytest.importorskip("httpx")


@pytest.fixture(scope="session")
def client():
    from starlette.testclient import TestClient

    from derivekit.web import create_app
    with TestClient(create_app(workers=1, queue=8)) as test_client:
        yield test_client

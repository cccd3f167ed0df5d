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
    with TestClient(create_app(workers=1, queue=8, light_workers=0)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server():
    """The application on a real uvicorn server on a free loopback port; yields its URL."""
    import socket
    import threading
    import time

    import uvicorn

    from derivekit.web import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(workers=2, queue=24), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)

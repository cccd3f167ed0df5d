"""The worker pool: a stuck job is killed and its worker replaced, a full queue answers at
once, and request parameters can never become options."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")

from derivekit.web.endpoints import ENDPOINTS, RequestError, argv_for  # noqa: E402
from derivekit.web.pool import Overloaded, TimedOut, WorkerPool  # noqa: E402

# a million tiny steps: seconds of work, cut off long before its own 8 s deadline
HEAVY = ("cli", "descend", {"expr": "x^4 + y^4", "start": "x=1,y=1", "lr": "1e-7", "steps": "1000000"})
LIGHT = ("cli", "derive", {"expr": "x^2", "wrt": "x"})


def test_a_job_past_the_deadline_is_killed_and_its_worker_replaced():
    async def scenario():
        pool = WorkerPool(size=1, queue=2, hard_deadline_s=60.0)
        await pool.start()
        try:
            await pool.run(LIGHT)  # the worker is up and warm
            pool.hard_deadline_s = 0.3
            first = pool._workers[0].process
            with pytest.raises(TimedOut):
                await pool.run(HEAVY)
            assert not first.is_alive() and pool.replaced == 1
            pool.hard_deadline_s = 60.0
            answer = await pool.run(LIGHT)  # the replacement answers
            assert answer["status"] == 200 and answer["payload"]["result"]["text"] == "2x"
            assert pool._workers[0].process is not first
        finally:
            await pool.close()
    asyncio.run(scenario())


def test_a_full_queue_is_refused_at_once_and_others_still_run():
    async def scenario():
        pool = WorkerPool(size=1, queue=1, hard_deadline_s=60.0)
        await pool.start()
        try:
            running = [asyncio.create_task(pool.run(LIGHT)) for _ in range(2)]
            await asyncio.sleep(0)
            with pytest.raises(Overloaded):
                await pool.run(LIGHT)  # size 1 + queue 1 taken
            answers = await asyncio.gather(*running)
            assert all(a["status"] == 200 for a in answers)
            assert (await pool.run(LIGHT))["status"] == 200 and pool.busy == 0
        finally:
            await pool.close()
    asyncio.run(scenario())


def test_the_api_answers_503_when_overloaded_and_422_past_the_deadline(client, monkeypatch):
    pool = client.app.state.pool
    monkeypatch.setattr(pool, "queue_limit", -1)  # nothing may run: every request overloads
    r = client.get("/api/derive", params={"expr": "x^2 + 503"})  # not answered before (no cache)
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert set(r.json()) == {"error", "hint", "position"}
    monkeypatch.setattr(pool, "queue_limit", 8)
    monkeypatch.setattr(pool, "hard_deadline_s", 0.3)
    r = client.get("/api/descend", params=HEAVY[2])
    assert r.status_code == 422 and "deadline" in r.json()["error"]
    monkeypatch.setattr(pool, "hard_deadline_s", 60.0)
    assert client.get("/api/derive", params={"expr": "x^2"}).status_code == 200


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=40)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(ENDPOINTS)), values=st.dictionaries(
    st.sampled_from(["expr", "wrt", "claim", "loss", "shapes", "matrix", "u", "v", "a", "b", "spec",
                     "order", "lr", "method", "no_steps", "k", "start", "depth"]), text, max_size=6))
def test_a_value_is_never_read_as_an_option(name, values):
    """Options go as --name=value and positionals after '--': whatever the text, argparse sees
    only the endpoint's own option names."""
    try:
        argv = argv_for(name, values)
    except RequestError:
        return
    endpoint = ENDPOINTS[name]
    allowed = {f"--{o.replace('_', '-')}" for o in endpoint.options + endpoint.flags + endpoint.repeated}
    allowed.add("--format")
    split = argv.index("--") if "--" in argv else len(argv)
    for token in argv[:split]:
        assert token.split("=", 1)[0] in allowed, token
    assert all(not t.startswith("--plot") and not t.startswith("--data") for t in argv[:split])


@pytest.mark.parametrize("job,light", [
    (("cli", "derive", {"expr": "sigmoid(w*x + b)", "wrt": "w"}), True),
    (("extra", "derive_page", {"expr": "x^2", "at": "1"}), True),
    (("cli", "derive", {"expr": "x^x^x^x^x"}), False),            # a power tower
    (("cli", "derive", {"expr": "(" * 10 + "x" + ")" * 10}), False),  # deep nesting
    (("cli", "derive", {"expr": "x" * 200}), False),              # long input
    (("cli", "derive", {"expr": "sin(x)", "order": "12"}), False),
    (("cli", "descend", {"expr": "x^2"}), False),                 # iterative work
    (("cli", "check", {"expr": "x", "claim": ["1", "2"], "wrt": "x"}), False),
])
def test_the_light_lane_takes_only_cheap_looking_jobs(job, light):
    from derivekit.web.pool import is_light
    assert is_light(job) is light


def test_a_job_the_light_lane_cannot_take_is_run_in_the_general_lane():
    from derivekit.web.pool import Lanes

    async def scenario():
        light = WorkerPool(size=1, queue=0, hard_deadline_s=60.0)
        general = WorkerPool(size=1, queue=2, hard_deadline_s=60.0)
        lanes = Lanes(general, light)
        await lanes.start()
        try:
            job = ("cli", "derive", {"expr": "sin(x)*x", "wrt": "x"})
            assert (await lanes.run(job))["status"] == 200
            assert light._workers[0].jobs == 1 and general._workers[0].jobs == 0  # it went light
            light.queue_limit = -1  # the light lane is full
            answer = await lanes.run(("cli", "derive", {"expr": "cos(x)*x", "wrt": "x"}))
            assert answer["status"] == 200 and general._workers[0].jobs == 1
        finally:
            await lanes.close()
    asyncio.run(scenario())

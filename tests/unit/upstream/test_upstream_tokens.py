"""TokenCache: one renewal for many waiters, expiry skew, refresh → login fallback, redaction."""

import asyncio

from gateway.errors import BackendAuthFailed
from gateway.upstream.context import UpstreamContext
from gateway.upstream.tokens import Token, TokenCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Source:
    def __init__(self, clock, refuse_refresh=False):
        self.clock = clock
        self.logins = 0
        self.refreshes = 0
        self.refuse_refresh = refuse_refresh
        self.seen_refresh = []

    async def login(self):
        self.logins += 1
        await asyncio.sleep(0.01)
        n = self.logins + self.refreshes
        return Token(f"access-{n}", self.clock() + 3600, 3600, f"refresh-{n}")

    async def refresh(self, token):
        self.seen_refresh.append(token.refresh)
        if self.refuse_refresh:
            raise BackendAuthFailed("refused")
        self.refreshes += 1
        await asyncio.sleep(0.01)
        n = self.logins + self.refreshes
        return Token(f"access-{n}", self.clock() + 3600, 3600, f"refresh-{n}")


def fetches(ctx, kind, outcome):
    return ctx.metrics.registry.get_sample_value(
        "gateway_backend_token_fetches_total", {"source": "crm", "kind": kind, "outcome": outcome})


async def test_concurrent_first_use_logs_in_once():
    clock = Clock()
    src, ctx = Source(clock), UpstreamContext("crm", None, 5, 0)
    cache = TokenCache(src, ctx, clock=clock)
    tokens = await asyncio.gather(*(cache.get() for _ in range(20)))
    assert src.logins == 1 and len({t.access for t in tokens}) == 1
    assert fetches(ctx, "login", "ok") == 1


async def test_renewed_before_expiry_with_skew_using_rotated_refresh_token():
    clock = Clock()
    src = Source(clock)
    cache = TokenCache(src, UpstreamContext("crm", None, 5, 0), skew=60, clock=clock)
    first = await cache.get()
    clock.now += 3600 - 61
    assert await cache.get() is first
    clock.now += 2  # inside the skew: renewed though not yet expired
    second = await cache.get()
    assert second.access != first.access and src.refreshes == 1
    clock.now += 3600
    await cache.get()
    assert src.seen_refresh == [first.refresh, second.refresh]  # the rotated one is used


async def test_many_401s_on_one_token_renew_once():
    clock = Clock()
    src = Source(clock)
    cache = TokenCache(src, UpstreamContext("crm", None, 5, 0), clock=clock)
    failed = await cache.get()
    renewed = await asyncio.gather(*(cache.invalidate(failed) for _ in range(20)))
    assert src.refreshes == 1 and len({t.access for t in renewed}) == 1
    assert renewed[0].access != failed.access


async def test_refused_refresh_falls_back_to_login_and_tokens_are_redacted():
    clock = Clock()
    src = Source(clock, refuse_refresh=True)
    ctx = UpstreamContext("crm", None, 5, 0)
    cache = TokenCache(src, ctx, clock=clock)
    first = await cache.get()
    second = await cache.invalidate(first)
    assert src.logins == 2 and second.access != first.access
    assert fetches(ctx, "refresh", "refused") == 1
    scrubbed = ctx.redactor.scrub_text(f"x {second.access} {second.refresh}")
    assert scrubbed == "x [redacted] [redacted]"


class SlowRefresh(Source):
    """Refreshes take a while; the backend rotates the refresh token when it answers."""

    def __init__(self, clock):
        super().__init__(clock)
        self.in_flight = 0
        self.most_in_flight = 0

    async def refresh(self, token):
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            return await super().refresh(token)
        finally:
            self.in_flight -= 1


async def test_a_waiter_giving_up_neither_cancels_the_refresh_nor_lets_a_second_one_start():
    clock = Clock()
    src = SlowRefresh(clock)
    cache = TokenCache(src, UpstreamContext("crm", None, 5, 0), clock=clock)
    first = await cache.get()
    clock.now += 3600  # expired
    impatient = asyncio.create_task(cache.get())
    await asyncio.sleep(0.01)
    impatient.cancel()  # its client went away mid-refresh
    others = await asyncio.gather(*(cache.get() for _ in range(5)))
    assert src.refreshes == 1 and src.most_in_flight == 1
    assert {t.access for t in others} == {cache.current.access}
    # the rotated refresh token was stored, so the next renewal uses it, not the spent one
    clock.now += 3600
    await cache.get()
    assert src.seen_refresh == [first.refresh, others[0].refresh]


async def test_the_rotated_token_is_stored_even_when_every_waiter_left():
    clock = Clock()
    src = SlowRefresh(clock)
    cache = TokenCache(src, UpstreamContext("crm", None, 5, 0), clock=clock)
    await cache.get()
    clock.now += 3600
    waiter = asyncio.create_task(cache.get())
    await asyncio.sleep(0.01)
    waiter.cancel()
    await asyncio.sleep(0.1)
    assert src.refreshes == 1 and cache.fresh() is not None


class Refusing(Source):
    async def login(self):
        if self.logins:  # the password was changed after the first login
            self.logins += 1
            raise BackendAuthFailed("refused")
        return await super().login()


async def test_a_refused_refresh_then_refused_login_is_auth_failed_once_not_a_loop():
    clock = Clock()
    src = Refusing(clock, refuse_refresh=True)
    ctx = UpstreamContext("crm", None, 5, 0)
    cache = TokenCache(src, ctx, clock=clock)
    first = await cache.get()
    results = await asyncio.gather(*(cache.invalidate(first) for _ in range(10)),
                                   return_exceptions=True)
    assert all(isinstance(r, BackendAuthFailed) for r in results)
    assert len(src.seen_refresh) == 1 and src.logins == 2  # one refresh, one login, for all ten
    assert fetches(ctx, "login", "refused") == 1

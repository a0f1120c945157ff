"""Reusable stream drivers for Amaranth async testbenches.

``put`` drives a producer with random input bubbles, ``get`` a consumer with random
backpressure; both follow the stream rules (a transfer happens on a clock edge where
``valid & ready``; a producer holds ``valid`` and ``payload`` until the transfer). ``Scoreboard``
compares what came out with what should have, and says whether a beat was lost, duplicated or
reordered.
"""

import random

__all__ = ["put", "get", "Scoreboard"]


async def put(ctx, stream, payloads, *, rng=None, bubbles=0.0, cycles=None):
    """Send every payload; before each beat, stay idle while ``rng.random() < bubbles``.

    If ``cycles`` is a list, the index of the clock edge of every transfer is appended to it
    (counted from this testbench's start).
    """
    rng = rng or random.Random(0)
    edge = 0
    for payload in payloads:
        while bubbles and rng.random() < bubbles:
            ctx.set(stream.valid, 0)
            await ctx.tick()
            edge += 1
        ctx.set(stream.payload, payload)
        ctx.set(stream.valid, 1)
        while True:
            _, _, ready = await ctx.tick().sample(stream.ready)
            edge += 1
            if ready:
                break
        if cycles is not None:
            cycles.append(edge)
    ctx.set(stream.valid, 0)


async def get(ctx, stream, count, *, rng=None, backpressure=0.0, cycles=None, decode=None,
              linger=0):
    """Receive ``count`` payloads; each cycle ``ready`` is low with probability ``backpressure``.

    ``decode(payload)`` turns each sampled payload into a plain Python value (default: as is).
    If ``cycles`` is a list, the clock-edge index of every transfer is appended to it. With
    ``linger``, stay ready that many cycles more and keep whatever else arrives, so a scoreboard
    can see extra (duplicated) beats.
    """
    rng = rng or random.Random(1)
    received = []
    edge = 0
    quiet = 0
    while len(received) < count or quiet < linger:
        ready = len(received) >= count or not (backpressure and rng.random() < backpressure)
        ctx.set(stream.ready, ready)
        _, _, valid, payload = await ctx.tick().sample(stream.valid, stream.payload)
        edge += 1
        if len(received) >= count:
            quiet += 1
        if ready and valid:
            received.append(payload if decode is None else decode(payload))
            if cycles is not None:
                cycles.append(edge)
    ctx.set(stream.ready, 0)
    return received


class Scoreboard:
    """In-order comparison of expected and received beats, with a diagnosis on mismatch."""

    def __init__(self, expected):
        self.expected = list(expected)

    def check(self, received):
        received = list(received)
        expected = self.expected
        for i, (want, got) in enumerate(zip(expected, received)):
            if want != got:
                raise AssertionError(f"beat {i}: expected {want!r}, got {got!r}"
                                     f"{self._diagnose(i, received)}")
        if len(received) != len(expected):
            kind = "lost" if len(received) < len(expected) else "extra (duplicated)"
            raise AssertionError(f"{abs(len(expected) - len(received))} beat(s) {kind}: "
                                 f"expected {len(expected)}, received {len(received)}")

    def _diagnose(self, i, received):
        expected = self.expected
        got = received[i]
        if i + 1 < len(expected) and expected[i + 1] == got:
            return " (the expected beat looks lost)"
        if i > 0 and expected[i - 1] == got:
            return " (looks like a duplicate of the previous beat)"
        if got in expected[i + 1:]:
            return f" (it belongs at beat {expected.index(got, i + 1)}: reordered or lost)"
        return ""

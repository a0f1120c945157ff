"""Register-bus drivers for async testbenches, from the register table (hdl.regmap).

``write`` takes one clock edge; ``read`` takes the read's edge and returns ``r_data``
:data:`hdl.regbus.READ_LATENCY` edges after it.
"""

from ..hdl.regbus import READ_LATENCY
from ..hdl.regmap import (COUNTERS, CONFIG_REGISTERS, MASK_ACTIVE, MASK_SHADOW, Ctrl, Reg, Status,
                          by_name, encode)

__all__ = ["write", "read", "write_fields", "stage", "configure", "load_mask", "read_mask",
           "read_counters", "read_counter", "wait_idle", "config_words"]


async def write(ctx, bus, addr, value):
    ctx.set(bus.addr, addr)
    ctx.set(bus.w_data, value & 0xFFFFFFFF)
    ctx.set(bus.w_en, 1)
    await ctx.tick()
    ctx.set(bus.w_en, 0)


async def read(ctx, bus, addr):
    ctx.set(bus.addr, addr)
    ctx.set(bus.r_en, 1)
    await ctx.tick()
    ctx.set(bus.r_en, 0)
    for _ in range(READ_LATENCY - 1):
        await ctx.tick()
    return ctx.get(bus.r_data)


async def write_fields(ctx, bus, name, **fields):
    """Write register ``name`` from field values (the table's encoding)."""
    await write(ctx, bus, Reg[name], encode(by_name(name), **fields))


def config_words(cfg):
    """The configuration registers' words for a sim.frames.FrameConfig: [(address, word)]."""
    values = cfg.register_value()
    return [(reg.addr, encode(reg, **{f.name: values[f.name] for f in reg.fields}))
            for reg in CONFIG_REGISTERS]


async def stage(ctx, bus, cfg):
    """Write a FrameConfig into the staged configuration registers (no apply)."""
    for addr, word in config_words(cfg):
        await write(ctx, bus, addr, word)


async def configure(ctx, bus, cfg):
    """Stage a FrameConfig and apply it: frames started from the next edge on run on it."""
    await stage(ctx, bus, cfg)
    await write(ctx, bus, Reg.CTRL, Ctrl.APPLY_CONFIG)


async def load_mask(ctx, bus, words, *, commit=True):
    """Write the shadow bank and arm the swap at the next frame start."""
    for j, word in enumerate(words):
        await write(ctx, bus, MASK_SHADOW + j, word)
    if commit:
        await write(ctx, bus, Reg.CTRL, Ctrl.COMMIT_MASK)


async def read_mask(ctx, bus, words, *, active=True):
    base = MASK_ACTIVE if active else MASK_SHADOW
    return [await read(ctx, bus, base + j) for j in range(words)]


async def read_counter(ctx, bus, name):
    """One counter, low word then high word (the low read snapshots the high bits)."""
    low = await read(ctx, bus, Reg[f"{name.upper()}_LO"])
    high = await read(ctx, bus, Reg[f"{name.upper()}_HI"])
    return high << 32 | low


async def read_counters(ctx, bus):
    return {name: await read_counter(ctx, bus, name) for name, _ in COUNTERS}


async def wait_idle(ctx, bus, *, settle=2):
    """Wait until STATUS.BUSY has been low for ``settle`` consecutive reads."""
    quiet = 0
    while quiet < settle:
        quiet = quiet + 1 if not await read(ctx, bus, Reg.STATUS) & Status.BUSY else 0

"""Register-bus drivers for async testbenches (see hdl.regmap for the map)."""

from ..hdl.regmap import COUNTERS, MASK_ACTIVE, MASK_SHADOW, Ctrl, Reg, Status

__all__ = ["write", "read", "configure", "load_mask", "read_counters", "wait_idle"]


async def write(ctx, bus, addr, value):
    ctx.set(bus.addr, addr)
    ctx.set(bus.w_data, value & 0xFFFFFFFF)
    ctx.set(bus.w_en, 1)
    await ctx.tick()
    ctx.set(bus.w_en, 0)


def read(ctx, bus, addr):
    """Combinational read: no clock edge needed."""
    ctx.set(bus.addr, addr)
    return ctx.get(bus.r_data)


async def configure(ctx, bus, cfg):
    """Write a sim.frames.FrameConfig into the frame configuration registers."""
    r = cfg.register_value()
    await write(ctx, bus, Reg.FRAME_SIZE, r["height"] | r["width"] << 16)
    await write(ctx, bus, Reg.PADS, r["pad_top"] | r["pad_bottom"] << 4 | r["pad_left"] << 8 |
                r["pad_right"] << 12)
    await write(ctx, bus, Reg.MODE, r["mode"].value | r["stride"] << 4 | r["zero_gating"] << 8)
    await write(ctx, bus, Reg.PAD_VALUE, r["pad_value"])
    await write(ctx, bus, Reg.CHANNELS, r["cin"] | r["cout"] << 16)
    await write(ctx, bus, Reg.SHIFT, r["shift"])


async def load_mask(ctx, bus, words, *, commit=True):
    """Write the shadow bank and arm the swap at the next frame boundary."""
    for j, word in enumerate(words):
        await write(ctx, bus, MASK_SHADOW + j, word)
    if commit:
        await write(ctx, bus, Reg.CTRL, Ctrl.COMMIT_MASK)


def read_mask(ctx, bus, words, *, active=True):
    base = MASK_ACTIVE if active else MASK_SHADOW
    return [read(ctx, bus, base + j) for j in range(words)]


def read_counters(ctx, bus):
    return {name: read(ctx, bus, Reg.COUNTER_BASE + i) for i, name in enumerate(COUNTERS)}


async def wait_idle(ctx, bus, *, settle=2):
    """Wait until STATUS.BUSY has been low for ``settle`` consecutive cycles."""
    quiet = 0
    while quiet < settle:
        quiet = quiet + 1 if not read(ctx, bus, Reg.STATUS) & Status.BUSY else 0
        await ctx.tick()

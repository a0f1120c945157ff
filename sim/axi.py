"""AXI drivers for async testbenches of hdl.axi_top.AxiConvTop: AXI4-Lite transactions with
random valid and ready delays, AXI4-Stream beats with random bubbles and backpressure."""

__all__ = ["lite_write", "lite_read", "stream_put", "stream_get"]


async def _delay(ctx, rng, share):
    while rng is not None and share and rng.random() < share:
        await ctx.tick()


async def lite_write(ctx, dut, addr, data, *, strb=0b1111, rng=None, stall=0.0):
    """One AXI4-Lite write (byte address); returns ``bresp``. Address and data are offered
    together; ``bready`` comes after a random delay."""
    await _delay(ctx, rng, stall)
    ctx.set(dut.s_axil_awaddr, addr)
    ctx.set(dut.s_axil_wdata, data & 0xFFFFFFFF)
    ctx.set(dut.s_axil_wstrb, strb)
    ctx.set(dut.s_axil_awvalid, 1)
    ctx.set(dut.s_axil_wvalid, 1)
    while True:
        _, _, aw_ready, w_ready = await ctx.tick().sample(dut.s_axil_awready,
                                                          dut.s_axil_wready)
        if aw_ready and w_ready:
            break
    ctx.set(dut.s_axil_awvalid, 0)
    ctx.set(dut.s_axil_wvalid, 0)
    await _delay(ctx, rng, stall)
    ctx.set(dut.s_axil_bready, 1)
    while True:
        _, _, valid, resp = await ctx.tick().sample(dut.s_axil_bvalid, dut.s_axil_bresp)
        if valid:
            break
    ctx.set(dut.s_axil_bready, 0)
    return resp


async def lite_read(ctx, dut, addr, *, rng=None, stall=0.0):
    """One AXI4-Lite read (byte address); returns ``(rdata, rresp)``."""
    await _delay(ctx, rng, stall)
    ctx.set(dut.s_axil_araddr, addr)
    ctx.set(dut.s_axil_arvalid, 1)
    while True:
        _, _, ready = await ctx.tick().sample(dut.s_axil_arready)
        if ready:
            break
    ctx.set(dut.s_axil_arvalid, 0)
    await _delay(ctx, rng, stall)
    ctx.set(dut.s_axil_rready, 1)
    while True:
        _, _, valid, data, resp = await ctx.tick().sample(dut.s_axil_rvalid, dut.s_axil_rdata,
                                                          dut.s_axil_rresp)
        if valid:
            break
    ctx.set(dut.s_axil_rready, 0)
    return data, resp


async def stream_put(ctx, dut, prefix, beats, *, rng=None, bubbles=0.0):
    """Offer ``beats`` (``(tdata, tlast)``) on the AXI4-Stream slave ``prefix``."""
    for tdata, tlast in beats:
        ctx.set(getattr(dut, f"{prefix}_tvalid"), 0)
        await _delay(ctx, rng, bubbles)
        ctx.set(getattr(dut, f"{prefix}_tdata"), tdata)
        ctx.set(getattr(dut, f"{prefix}_tlast"), tlast)
        ctx.set(getattr(dut, f"{prefix}_tvalid"), 1)
        while True:
            _, _, ready = await ctx.tick().sample(getattr(dut, f"{prefix}_tready"))
            if ready:
                break
    ctx.set(getattr(dut, f"{prefix}_tvalid"), 0)


async def stream_get(ctx, dut, prefix, count, *, rng=None, backpressure=0.0, linger=40):
    """Take ``count`` beats (``(tdata, tlast)``) from the AXI4-Stream master ``prefix``, then
    stay ready ``linger`` more cycles and take whatever else arrives."""
    beats = []
    idle = 0
    while len(beats) < count or idle < linger:
        ready = not (rng is not None and backpressure and rng.random() < backpressure)
        ctx.set(getattr(dut, f"{prefix}_tready"), ready)
        _, _, valid, tdata, tlast = await ctx.tick().sample(
            getattr(dut, f"{prefix}_tvalid"), getattr(dut, f"{prefix}_tdata"),
            getattr(dut, f"{prefix}_tlast"))
        if valid and ready:
            beats.append((tdata, tlast))
        if len(beats) >= count:
            idle += 1
    ctx.set(getattr(dut, f"{prefix}_tready"), 0)
    return beats

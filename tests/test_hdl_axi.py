# amaranth: UnusedElaboratable=no
"""The AXI top (hdl/axi_top.py): a frame through AXI4-Stream and AXI4-Lite under random bubbles,
backpressure and handshake delays, exact against the golden model; SLVERR where documented;
every valid and ready low during reset; its Verilog lint-clean."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from padmask.hdl.axi_lite import OKAY, SLVERR
from padmask.hdl.axi_top import AxiConvTop
from padmask.hdl.regmap import MASK_ACTIVE, MASK_SHADOW, Ctrl, Reg
from padmask.sim.axi import lite_read, lite_write, stream_get, stream_put
from padmask.sim.frames import expected_outputs, input_beats, mask_words, param_words
from padmask.sim.harness import FrameSpec, simulate
from padmask.sim.regs import config_words
from padmask.sim.stream import Scoreboard
from tests.core_cases import SMALL, frame, random_frames, weights


def simulator(dut):
    sim = Simulator(dut)

    async def clock(ctx):   # (aclk is a port: the top makes its clock domain from it)
        while True:
            await ctx.delay(5e-9)
            ctx.set(dut.aclk, 1)
            await ctx.delay(5e-9)
            ctx.set(dut.aclk, 0)
    sim.add_process(clock)
    return sim


def out_tdata(lanes, width):
    return sum((v & ((1 << width) - 1)) << (width * j) for j, v in enumerate(lanes))


@pytest.mark.parametrize("seed", [0, 1])
def test_frames_through_the_axi_top(seed):
    params = SMALL[3]
    dut = AxiConvTop(params)
    rng = np.random.default_rng(60 + seed)
    first = random_frames(rng, params, 1)[0]
    # a second frame on the same configuration and mask follows with no host wait
    second = frame(rng, params, first.cfg)
    frames = [first, FrameSpec(first.cfg, second.x, first.full_mask)]
    w, bias = weights(rng, params, frames[0].cfg.cin, frames[0].cfg.cout)
    expected = [(out_tdata(lanes, params.out_width), end) for f in frames
                for lanes, end in expected_outputs(params, f.cfg, f.x, w, bias, f.full_mask)]
    sim = simulator(dut)
    got = {}
    r = random.Random(seed)

    async def host(ctx):
        ctx.set(dut.aresetn, 0)
        for _ in range(2):
            await ctx.tick()
        ctx.set(dut.aresetn, 1)
        responses = []
        for addr, word in config_words(frames[0].cfg):
            responses.append(await lite_write(ctx, dut, 4 * addr, word, rng=r, stall=0.3))
        responses.append(await lite_write(ctx, dut, 4 * Reg.CTRL, Ctrl.APPLY_CONFIG))
        await stream_put(ctx, dut, "s_axis_params",
                         [(b["data"] & 0xFFFF, b["last"]) for b in param_words(w, bias)],
                         rng=r, bubbles=0.3)
        for j, word in enumerate(mask_words(params, frames[0].full_mask)):
            responses.append(await lite_write(ctx, dut, 4 * (MASK_SHADOW + j), word, rng=r,
                                              stall=0.3))
        responses.append(await lite_write(ctx, dut, 4 * Reg.CTRL, Ctrl.COMMIT_MASK))
        got["responses"] = responses
        beats = [(b["data"] & 0xFF, b["last"]) for f in frames for b in input_beats(f.x)]
        await stream_put(ctx, dut, "s_axis_pixels", beats, rng=r, bubbles=0.3)

    async def consumer(ctx):
        got["out"] = await stream_get(ctx, dut, "m_axis_out", len(expected),
                                      rng=random.Random(seed + 7), backpressure=0.3)
        got["errors"] = await lite_read(ctx, dut, 4 * Reg.ERRORS)

    sim.add_testbench(host, background=True)
    sim.add_testbench(consumer)
    simulate(sim)
    assert set(got["responses"]) == {OKAY}
    Scoreboard(expected).check(got["out"])
    assert got["errors"] == (0, OKAY)


def test_slverr_where_documented():
    params = SMALL[3]
    dut = AxiConvTop(params)
    words = dut.core.masks.words
    sim = simulator(dut)
    got = {}

    async def bench(ctx):
        ctx.set(dut.aresetn, 1)
        await ctx.tick()
        got["unmapped_read"] = await lite_read(ctx, dut, 4 * 0x0FF)
        got["mapped_read"] = await lite_read(ctx, dut, 4 * Reg.ID)
        got["mask_read"] = await lite_read(ctx, dut, 4 * (MASK_ACTIVE + words - 1))
        got["past_mask_read"] = await lite_read(ctx, dut, 4 * (MASK_ACTIVE + words))
        got["unmapped_write"] = await lite_write(ctx, dut, 4 * 0x0FF, 1)
        got["errors"] = await lite_read(ctx, dut, 4 * Reg.ERRORS)
        got["read_only_write"] = await lite_write(ctx, dut, 4 * Reg.ID, 1)
        got["active_mask_write"] = await lite_write(ctx, dut, 4 * MASK_ACTIVE, 1)
        got["partial_write"] = await lite_write(ctx, dut, 4 * Reg.SHIFT, 3, strb=0b0001)
        got["shift_after_partial"] = await lite_read(ctx, dut, 4 * Reg.SHIFT)
        got["whole_write"] = await lite_write(ctx, dut, 4 * Reg.SHIFT, 3)
        got["shift"] = await lite_read(ctx, dut, 4 * Reg.SHIFT)

    sim.add_testbench(bench)
    simulate(sim)
    assert got["unmapped_read"] == (0, SLVERR)
    assert got["mapped_read"][1] == OKAY and got["mapped_read"][0] != 0
    assert got["mask_read"][1] == OKAY and got["past_mask_read"][1] == SLVERR
    assert got["unmapped_write"] == SLVERR
    assert got["errors"][0] != 0                 # the register block flagged it (bad_write)
    assert got["read_only_write"] == got["active_mask_write"] == got["partial_write"] == SLVERR
    assert got["shift_after_partial"] == (0, OKAY)     # the partial write was dropped
    assert got["whole_write"] == OKAY and got["shift"] == (3, OKAY)


def test_every_valid_and_ready_is_low_during_reset():
    params = SMALL[3]
    dut = AxiConvTop(params)
    sim = simulator(dut)
    outputs = [dut.s_axis_pixels_tready, dut.s_axis_params_tready, dut.s_axis_grads_tready,
               dut.m_axis_out_tvalid, dut.s_axil_awready, dut.s_axil_wready,
               dut.s_axil_arready, dut.s_axil_bvalid, dut.s_axil_rvalid]
    seen = []

    async def bench(ctx):
        ctx.set(dut.aresetn, 1)
        await ctx.tick()
        # a write answered but not taken: bvalid high; then reset with every input offered
        ctx.set(dut.s_axil_awvalid, 1)
        ctx.set(dut.s_axil_wvalid, 1)
        ctx.set(dut.s_axil_wstrb, 0b1111)
        await ctx.tick()
        ctx.set(dut.s_axil_awvalid, 0)
        ctx.set(dut.s_axil_wvalid, 0)
        await ctx.tick()
        assert ctx.get(dut.s_axil_bvalid)
        for name in ("s_axis_pixels", "s_axis_params", "s_axis_grads"):
            ctx.set(getattr(dut, f"{name}_tvalid"), 1)
        for name in ("awvalid", "wvalid", "arvalid"):
            ctx.set(getattr(dut, f"s_axil_{name}"), 1)
        ctx.set(dut.aresetn, 0)
        for _ in range(3):
            seen.append([ctx.get(s) for s in outputs])
            await ctx.tick()

    sim.add_testbench(bench)
    simulate(sim)
    assert seen == [[0] * len(outputs)] * 3


def test_axi_top_verilog_is_lint_clean(tmp_path):
    from amaranth.back import verilog
    from padmask.sim.verilator import lint
    for params in (SMALL[3], SMALL[1]):
        path = tmp_path / "padmask_axi.v"
        path.write_text(verilog.convert(AxiConvTop(params), name="padmask_axi"))
        assert [str(w) for w in lint(path)] == []
        text = path.read_text()
        assert "input aclk;" in text and "input aresetn;" in text
        assert "clk;" not in text.split("module padmask_axi(")[1].split(");")[0]

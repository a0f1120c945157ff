"""cocotb testbench of the AXI top (cocotb 2.x, cocotbext-axi): one layer against the golden model.

Run by ``padmask cocotb [--sim verilator|icarus]`` (sim/cocotb_run.py), which writes the AXI
top's Verilog and a case file (``PADMASK_CASE``: the configuration registers, the mask words,
the parameter and pixel beats and the golden model's output bytes), builds the simulation and
runs this module. The test resets the core, writes the configuration and the mask through
AXI4-Lite, streams the parameters and the frame through AXI4-Stream (with random pauses on every
stream), receives the output frame (random backpressure) and compares it byte for byte; then
reads ERRORS, which must be 0, and reads an unmapped address, which must answer SLVERR.
"""

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles
from cocotbext.axi import (AxiLiteBus, AxiLiteMaster, AxiResp, AxiStreamBus, AxiStreamFrame,
                           AxiStreamSink, AxiStreamSource)


def _pauses(seed, share):
    rng = random.Random(seed)
    while True:
        yield int(rng.random() < share)


@cocotb.test()
async def one_layer_against_the_golden_model(dut):
    case = json.loads(open(os.environ["PADMASK_CASE"]).read())
    Clock(dut.aclk, 10, unit="ns").start(start_high=False)
    reset = dict(reset=dut.aresetn, reset_active_level=False)
    axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.aclk, **reset)
    params = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_params"), dut.aclk, **reset)
    pixels = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_pixels"), dut.aclk, **reset)
    out = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis_out"), dut.aclk, **reset)
    pixels.set_pause_generator(_pauses(1, 0.3))
    params.set_pause_generator(_pauses(2, 0.3))
    out.set_pause_generator(_pauses(3, 0.3))
    if hasattr(dut, "s_axis_grads_tvalid"):
        dut.s_axis_grads_tvalid.value = 0
    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 4)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)

    for addr, word in case["config"]:
        await axil.write_dword(addr, word)
    await params.send(AxiStreamFrame(bytes.fromhex(case["params"])))
    await params.wait()
    for addr, word in case["mask"]:
        await axil.write_dword(addr, word)
    await pixels.send(AxiStreamFrame(bytes.fromhex(case["pixels"])))
    frame = await out.recv()
    expected = bytes.fromhex(case["outputs"])
    got = bytes(frame.tdata)
    assert len(got) == len(expected), f"{len(got)} output bytes, expected {len(expected)}"
    beat = case["output_beat_bytes"]
    for i in range(0, len(expected), beat):
        assert got[i:i + beat] == expected[i:i + beat], \
            f"output beat {i // beat}: got {got[i:i + beat].hex()}, expected " \
            f"{expected[i:i + beat].hex()}"
    errors = await axil.read_dword(case["errors_addr"])
    assert errors == 0, f"ERRORS = {errors:#x}"
    unmapped = await axil.read(case["unmapped_addr"], 4)
    assert unmapped.resp == AxiResp.SLVERR
    dut._log.info("%d output beats bit-exact with the golden model", len(expected) // beat)

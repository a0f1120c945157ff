"""Golden timing model of the convolution core.

With the input always valid and the output always ready, the core's schedule is fixed by its
flow-control rules alone (``hdl/window.py``): this model replays those rules cycle by cycle, in
Python, and predicts

* the clock edge at which every window is issued (and so which multiplications are skipped on
  which cycle), and
* the clock edge at which every output beat leaves the core.

Edges are counted from 1 = the first clock edge at which the first input beat is offered.
The model knows the flow control, not the arithmetic: the values come from the golden model.
"""

from collections import deque
from dataclasses import dataclass

from ..hdl import window as window_unit
from ..hdl.core import LATENCY

from .frames import expected_windows

__all__ = ["Schedule", "schedule", "ideal_cycles", "skip_schedule"]


@dataclass
class Schedule:
    issue_edges: list     #: per window beat (all frames, output order): edge it was issued
    output_edges: list    #: per output beat: edge it was transferred out
    input_edges: list     #: per input beat: edge it was accepted
    frame_first_output: list  #: per frame: index of its first output beat


def ideal_cycles(params, cfg):
    """max(input beats, MAC slots / multipliers) for one frame."""
    ho, wo = cfg.output_size(params.kernel)
    slots = ho * wo * params.taps * cfg.cin * cfg.cout
    multipliers = params.lanes * params.taps
    return max(cfg.input_count(), -(-slots // multipliers))


def _source(t, size, mode):
    if 0 <= t < size:
        return t
    if mode == "reflect":
        return -t if t < 0 else 2 * (size - 1) - t
    return 0 if t < 0 else size - 1  # replicate, and the clamp of zero/constant


def schedule(params, cfgs):
    """Replay the core's flow control for back-to-back frames ``cfgs`` (sim.frames.FrameConfig)."""
    k, slots = params.kernel, params.row_slots
    depth = slots + 1  # descriptor queue
    issue_edges, output_edges, input_edges, first_output = [], [], [], []

    # writer
    w_state, w_frame, w_beat, w_vrow = "START", 0, 0, 0
    queue = deque()     # descriptors: (base, cfg index)
    # reader
    r_state, end_vrow = "IDLE", 0
    r = None
    edge = 0
    total_frames = len(cfgs)
    done_frames = 0
    while done_frames < total_frames:
        edge += 1
        # --- combinational values from the state before this edge ---------------------------
        if r_state == "RUN":
            cfg = cfgs[r["frame"]]
            top = cfg.padding[0]
            need = min(r["oy"] * cfg.stride - top, cfg.height - k)
            low_water = r["base"] + max(0, need)
        else:
            low_water = end_vrow
        pushes, pops = [], 0

        # --- reader ---------------------------------------------------------------------------
        if r_state == "IDLE":
            if queue:
                base, index = queue.popleft()
                pops = 1
                cfg = cfgs[index]
                hp, wp = cfg.padded
                r = dict(frame=index, base=base, oy=0, ox=0, g=0, c=0,
                         ho=(hp - k) // cfg.stride + 1, wo=(wp - k) // cfg.stride + 1,
                         groups=-(-cfg.cout // params.lanes))
                first_output.append(len(output_edges))
                r_state = "RUN"
        else:
            cfg = cfgs[r["frame"]]
            top, mode = cfg.padding[0], cfg.mode
            rows = [_source(r["oy"] * cfg.stride + ky - top, cfg.height, mode) for ky in range(k)]
            if w_vrow - r["base"] > max(rows):
                issue_edges.append(edge)
                if r["c"] == cfg.cin - 1:
                    output_edges.append(edge + LATENCY + 1)
                r["c"] += 1
                if r["c"] == cfg.cin:
                    r["c"] = 0
                    r["g"] += 1
                    if r["g"] == r["groups"]:
                        r["g"] = 0
                        r["ox"] += 1
                        if r["ox"] == r["wo"]:
                            r["ox"] = 0
                            r["oy"] += 1
                            if r["oy"] == r["ho"]:
                                end_vrow = r["base"] + cfg.height
                                r_state = "IDLE"
                                done_frames += 1

        # --- writer ---------------------------------------------------------------------------
        if w_state == "START":
            if w_frame < total_frames and len(queue) + pops < depth:
                pushes.append((w_vrow, w_frame))
                w_state = "RUN"
                w_beat = 0
        elif w_state == "RUN":
            cfg = cfgs[w_frame]
            if w_vrow - low_water < slots:
                input_edges.append(edge)
                w_beat += 1
                if w_beat % (cfg.width * cfg.cin) == 0:
                    w_vrow += 1
                if w_beat == cfg.input_count():
                    w_frame += 1
                    w_state = "START" if w_frame < total_frames else "DONE"
        queue.extend(pushes)
    return Schedule(issue_edges, output_edges, input_edges, first_output)


def skip_schedule(params, frames):
    """Per-cycle skip vectors at the MAC array's input, with no stalls.

    ``frames``: sim.harness.FrameSpec list. Returns ``(edge, skip_mask, skip_zero)`` for every
    window beat: the edge it enters the MAC array and which of its taps are skipped by the mask
    and by zero gating (bit t = tap t), from the golden model's padding and mask.
    """
    issue = schedule(params, [f.cfg for f in frames]).issue_edges
    vectors = []
    full = 2**params.taps - 1
    for f in frames:
        for taps, pad, keep, *_, zero_gating in expected_windows(params, f.cfg, f.x, f.full_mask):
            by_mask = pad & ~keep & full
            zero = sum(1 << t for t, v in enumerate(taps) if v == 0)
            vectors.append((by_mask, zero & ~by_mask if zero_gating else 0))
    return [(edge + window_unit.LATENCY,) + vec for edge, vec in zip(issue, vectors)]

"""Golden timing model of the convolution core.

With the input always valid and the output always ready, the core's schedule is fixed by its
flow-control rules alone (``hdl/window.py``, ``hdl/skid.py``): this model replays those rules
cycle by cycle, in Python, and predicts

* the clock edge at which every input beat is accepted at the core's ``i``,
* the clock edge at which every window is issued (and so which multiplications are skipped on
  which cycle), and
* the clock edge at which every output beat leaves the core.

Edges are counted from 1 = the first clock edge at which the first input beat is offered.
The model knows the flow control, not the arithmetic: the values come from the golden model.
"""

from dataclasses import dataclass

from ..hdl import core as core_unit
from ..hdl import window as window_unit
from .frames import expected_windows

__all__ = ["Schedule", "schedule", "ideal_cycles", "skip_schedule"]

#: edges from a descriptor's push to the reader starting its frame (the queue's output
#: register, the descriptor taken, its values computed in three register steps)
_QUEUE_LATENCY = 4


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


class _Skid:
    """The two-entry skid buffer (hdl/skid.py), with the producer always valid."""

    def __init__(self):
        self.out = None      # beat in the output register
        self.spare = None    # beat in the spare register

    @property
    def ready(self):
        return self.spare is None

    def edge(self, incoming, taken):
        """One edge: ``incoming`` is the offered beat (or None), ``taken`` whether the
        consumer takes the output register's beat. Returns True if ``incoming`` was accepted."""
        if self.spare is None:
            if self.out is not None and not taken:
                self.spare = incoming
            else:
                self.out = incoming
            return incoming is not None
        if taken:
            self.out, self.spare = self.spare, None
        return False


def _row_geometry(params, cfg, base, oy):
    """(need, low) of output row ``oy``: rows it needs complete, and its low-water mark."""
    k = params.kernel
    t0 = oy * cfg.stride - cfg.padding[0]
    least = cfg.padding[0] + 1 if cfg.mode == "reflect" else 1   # reflect reads row -t0
    need = min(cfg.height, max(t0 + k, min(cfg.height, least)))
    low = base + max(0, min(t0, cfg.height - k))
    return need, low


def schedule(params, cfgs):
    """Replay the core's flow control for back-to-back frames ``cfgs`` (sim.frames.FrameConfig)."""
    k, slots = params.kernel, params.row_slots
    depth = slots + 1  # descriptor queue
    latency = core_unit.latency(params)
    issue_edges, output_edges, input_edges, first_output = [], [], [], []
    beats = [cfg.input_count() for cfg in cfgs]
    total_beats = sum(beats)

    skid = _Skid()
    next_beat = 0                       # producer: next beat offered at the core's input
    # writer
    w_state, w_frame, w_beat, vrow = "START", 0, 0, 0
    rows_done, w_row_end = 0, False     # write stage: a row's last beat is written next edge
    queue = []                          # descriptors: [edge visible to the reader, base, frame]
    # reader
    running, r = False, None
    low = 0
    # low as it travels towards the read: two cycles to compute it, then the pipeline stages
    low_pipe = [0] * (window_unit.LOW_WATER_DELAY + 2)
    edge = 0
    done_frames = 0
    while done_frames < len(cfgs):
        edge += 1
        low_water = low_pipe[-1]
        # --- reader ---------------------------------------------------------------------------
        popped = False
        new_low = low
        if not running:
            if queue and queue[0][0] <= edge:
                _, base, index = queue.pop(0)
                popped = True
                cfg = cfgs[index]
                hp, wp = cfg.padded
                need, _ = _row_geometry(params, cfg, base, 0)
                r = dict(frame=index, base=base, oy=0, ox=0, g=0, c=0, need=need,
                         ho=(hp - k) // cfg.stride + 1, wo=(wp - k) // cfg.stride + 1,
                         groups=-(-cfg.cout // params.lanes))
                first_output.append(len(output_edges))
                running = True
                new_low = base
        elif rows_done - r["base"] >= r["need"]:
            cfg = cfgs[r["frame"]]
            issue_edges.append(edge)
            if r["c"] == cfg.cin - 1:
                output_edges.append(edge + latency + 1)
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
                            running = False
                            done_frames += 1
                            new_low = r["base"] + cfg.height
                        else:
                            r["need"], new_low = _row_geometry(params, cfg, r["base"], r["oy"])

        # --- writer (takes from the input skid buffer's output register) ----------------------
        taken = False
        wrote_row_end = w_row_end
        w_row_end = False
        if w_state == "START":
            if skid.out is not None and w_frame < len(cfgs) and len(queue) - popped < depth:
                queue.append([edge + _QUEUE_LATENCY, vrow, w_frame])
                w_state, w_beat = "RUN", 0
        elif w_state == "RUN" and skid.out is not None and vrow - low_water < slots:
            cfg = cfgs[w_frame]
            taken = True
            w_beat += 1
            if w_beat % (cfg.width * cfg.cin) == 0:
                vrow += 1
                w_row_end = True
            if w_beat == beats[w_frame]:
                w_frame += 1
                w_state = "START"
        if wrote_row_end:
            rows_done += 1

        # --- the input skid buffer, the low-water pipeline -------------------------------------
        offered = next_beat if next_beat < total_beats else None
        if skid.edge(offered, taken):
            input_edges.append(edge)
            next_beat += 1
        low_pipe = [low] + low_pipe[:-1]
        low = new_low
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
    delay = core_unit.mac_input_delay(params)
    return [(edge + delay,) + vec for edge, vec in zip(issue, vectors)]

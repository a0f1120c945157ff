"""Payload layouts of the streams inside the core (window generator -> skip unit -> MAC array).

Each beat is one input channel of one output position for one output-channel group: ``K*K``
activations (raster order over the window, tap ``ky*K + kx``), which of them are padding pixels,
their blocks' mask bits, and where the beat sits in the accumulation. Per-frame settings the
downstream units need travel with every beat, so beats of two frames can share the pipeline.
"""

from amaranth.hdl import signed
from amaranth.lib import data

__all__ = ["window_layout", "skip_layout", "output_layout"]


def window_layout(params):
    return data.StructLayout({
        "taps": data.ArrayLayout(signed(params.act_width), params.taps),
        "pad": params.taps,        # bit t: tap t is a padding pixel
        "keep": params.taps,       # bit t: the mask bit of tap t's block
        "channel": range(params.max_cin),
        "group": range(params.groups),
        "weight_addr": range(params.groups * params.max_cin),  # group * max_cin + channel
        "first": 1,                # first input channel of this output
        "last": 1,                 # last input channel of this output
        "end": 1,                  # last beat of the frame
        "lanes": range(params.lanes + 1),  # output channels of this group that exist
        "shift": params.shift_width,
        "zero_gating": 1,
    })


def skip_layout(params):
    return data.StructLayout({
        "window": window_layout(params),
        "skip_mask": params.taps,  # bit t: not performed, masked-out padding
        "skip_zero": params.taps,  # bit t: not performed, zero activation (zero gating)
    })


def output_layout(params):
    return data.StructLayout({
        "data": data.ArrayLayout(signed(params.out_width), params.lanes),
        "end": 1,                  # last beat of the frame
    })

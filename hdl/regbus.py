"""A minimal register bus: the core's configuration and status interface.

Word-addressed, 32-bit. A write (``w_en``) takes effect on the clock edge; a read is
combinational (``r_data`` follows ``addr`` in the same cycle). The planned AXI4-Lite front end
maps onto it one to one (registering ``r_data`` for the R channel).
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RegisterBus", "ADDR_WIDTH"]

ADDR_WIDTH = 10


class RegisterBus(wiring.Signature):
    def __init__(self):
        super().__init__({
            "addr": Out(ADDR_WIDTH),
            "w_data": Out(32),
            "w_en": Out(1),
            "r_data": In(32),
        })

"""A minimal register bus: the core's configuration and status interface.

Word-addressed, 32-bit, one transfer per cycle in each direction:

* write: ``w_en`` with ``addr`` and ``w_data``; it takes effect on that clock edge;
* read: ``r_en`` with ``addr``; ``r_data`` holds the register's value (sampled on the ``r_en``
  edge) from the second cycle after it on (read latency 2) until the cycle after the next
  ``r_en``'s. A read and a write in the same cycle see the value from before the write. Reads
  may follow each other every cycle.

It maps onto AXI4-Lite one to one: AW/W -> ``w_en``, AR -> ``r_en``, R data = ``r_data``.
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RegisterBus", "ADDR_WIDTH", "READ_LATENCY"]

ADDR_WIDTH = 10
READ_LATENCY = 2


class RegisterBus(wiring.Signature):
    def __init__(self):
        super().__init__({
            "addr": Out(ADDR_WIDTH),
            "w_data": Out(32),
            "w_en": Out(1),
            "r_en": Out(1),
            "r_data": In(32),
        })

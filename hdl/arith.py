"""Small arithmetic helpers that keep constant products out of DSP blocks.

Yosys maps every ``*`` whose operands are two bits or wider to a DSP block, a product by a
constant included; padmask's DSP blocks are for the MAC array (and the one learning-rate
product). A product by a constant is written here as the shifts and adds of its set bits.
"""

from amaranth.hdl import Const, Value

__all__ = ["times_const"]


def times_const(value, constant):
    """``value * constant`` for a non-negative integer constant, as shifts and adds."""
    if isinstance(constant, bool) or not isinstance(constant, int) or constant < 0:
        raise ValueError(f"constant must be a non-negative integer, not {constant!r}")
    value = Value.cast(value)
    total = Const(0, 1)
    for bit in range(constant.bit_length()):
        if constant >> bit & 1:
            total = total + (value << bit)
    return total

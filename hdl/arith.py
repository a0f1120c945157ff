"""Small arithmetic helpers that keep constant products out of DSP blocks.

Yosys maps every ``*`` whose operands are two bits or wider to a DSP block, a product by a
constant included; padmask's DSP blocks are for the MAC array (and the one learning-rate
product). A product by a constant is written here as the shifts and adds of its set bits.
"""

from amaranth.hdl import Const, Mux, Value

__all__ = ["times_const", "lut_multiply", "NO_RW_CHECK"]

#: Memory attribute for memories whose reads never collide with a write that matters (each use
#: says why): Yosys then maps the read port straight to the block RAM's output, without the soft
#: logic that would emulate a defined read-during-write result.
NO_RW_CHECK = {"no_rw_check": 1}


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


def lut_multiply(a, b):
    """Signed ``a * b`` from partial products and adds (no ``*``, so no DSP block): for parts
    whose DSP blocks run out. Two's complement: the top bit of ``b`` weighs ``-2**(n-1)``."""
    a, b = Value.cast(a).as_signed(), Value.cast(b).as_signed()
    n = len(b)
    terms = [Mux(b[i], a << i, 0) for i in range(n - 1)]
    terms.append(-Mux(b[n - 1], a << (n - 1), 0))
    while len(terms) > 1:   # a balanced adder tree
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]
                 for i in range(0, len(terms), 2)]
    return terms[0]

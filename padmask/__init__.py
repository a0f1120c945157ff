"""padmask: dynamic padding masking for sparse convolution, as Amaranth RTL verified against a
NumPy golden model.

Subpackages (each a top-level folder of the source tree, installed under this package):

* :mod:`padmask.golden`: the NumPy golden model, the executable specification;
* :mod:`padmask.hdl`: the Amaranth units and the convolution core;
* :mod:`padmask.sim`: simulation drivers, benchmarks and the ``padmask`` command.
"""

__version__ = "0.2.0"

"""padmask simulation drivers, testbench helpers, benchmarks and the ``padmask`` command."""

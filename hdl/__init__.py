"""padmask hardware units (Amaranth 0.5). Number formats come from :mod:`golden.fixed`."""

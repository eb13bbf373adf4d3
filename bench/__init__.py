"""flexorm's benchmarks: ``python -m bench`` (see :mod:`bench.run`)."""

"""Benchmarks (`make bench`, `python -m bench [web|generate]`): every figure is printed next to
a floor measured in the same run, as a ratio, with the peak memory of what was measured."""

"""`make bench`: each `bench/bench_*.py` module measures one goal against a baseline measured
in the same run, and prints figures and ratios. Run one with `make bench BENCH=name`."""

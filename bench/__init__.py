"""cronflow benchmarks: run with `bench/run` (see `bench/run --help`)."""

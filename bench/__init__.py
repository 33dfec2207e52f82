"""Benchmarks (issue 10): `make bench` or `python bench/run.py --help`."""

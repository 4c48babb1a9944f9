"""Benchmarks (not tests): run `python -m bench`; each module prints or returns its figures."""

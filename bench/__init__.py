"""Benchmarks run by hand against real servers; figures are recorded in docs/performance.md."""

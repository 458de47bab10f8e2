"""Benchmarks on synthetic history (``make bench``, never the test suite); see docs/performance.md."""

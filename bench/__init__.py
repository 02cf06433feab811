"""Benchmarks, run by hand (`python bench/<name>.py`); never timed assertions in tests.

A package so that gunicorn can load the bench-only settings (`bench.settings`) and the HTTP
benchmarks can share their harness (`bench.harness`).
"""

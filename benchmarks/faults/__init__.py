"""Helpers of the fault suite (`benchmarks/soak.py`): captures, the harness around the app, the pty runner.

Nothing here is imported by callwatch itself; tests/test_faults.py and tests/test_pty_escapes.py use it
through `benchmarks/soak.py`.
"""

"""
How long a bounded parser may take in a test before it counts as stalled.

These are guards against the security probe's inputs coming back (they took
2 to 75 s, or never finished), not speed targets: every case here takes
milliseconds, so a guard fails only on a regression of orders of magnitude,
never on a busy machine. How fast the renderer and the diff really are is
what ``make bench`` measures and prints (bench/bounds.py).
"""

STALL_SECONDS = 5.0

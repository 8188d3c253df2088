"""Timing for the bench modes of the reference scripts."""
import time


def timed(step, steps, warmup):
    """Seconds that `steps` calls of step() take, after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - t0

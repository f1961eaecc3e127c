"""The allocator stays steady while sampling: freed arrays are reused, not faulted in again."""

import resource

import numpy as np
import pytest

from bayesclv.models.allocator import steady_allocator, tunable

pytestmark = pytest.mark.skipif(not tunable(), reason="glibc's allocator only")
PAGE = resource.getpagesize()


def faults_of_repeated_allocations(repeats: int = 50, size: int = 4 * 1024**2) -> int:
    """Minor page faults while allocating, touching and freeing a 4 MiB array repeatedly."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        np.ones(size // 8)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_freed_arrays_are_reused_inside_the_block():
    pages_per_array = 4 * 1024**2 // PAGE
    with steady_allocator():
        faults_of_repeated_allocations(repeats=2)  # the first touch maps the memory once
        inside = faults_of_repeated_allocations()
    # 50 fresh mappings would fault 50 × 1,024 pages; reuse faults at most the first one.
    assert inside < 2 * pages_per_array

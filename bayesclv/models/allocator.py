"""glibc's allocator kept from handing memory back to the kernel while a sampler runs.

Every gradient evaluation of a compiled PyTensor graph allocates its intermediate arrays
afresh (rows × quadrature nodes: ~1.2 MB each for the Pareto/NBD on CDNOW master). With
glibc's default thresholds such arrays are mapped and unmapped on every call, and the
free memory at the top of each sampler thread's heap is trimmed back to the kernel, so
every call faults its pages in again. Measured on CDNOW master, 9 segments, one thread,
1,000 Pareto/NBD gradients: 1.9 M minor page faults and 13.8 ms per gradient with the
defaults, 67 k faults and 8.5 ms with the thresholds below.

Elsewhere than glibc (macOS, musl) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Largest mmap threshold glibc accepts on 64-bit systems (32 MiB): arrays below it come
#: from the heap and are reused.
MMAP_THRESHOLD = 32 * 1024**2
#: Free heap memory kept while sampling, per thread arena.
SAMPLING_TRIM_THRESHOLD = 1024**3
#: Kept afterwards: 2 × the mmap threshold, the ceiling of glibc's own dynamic rule.
RESTING_TRIM_THRESHOLD = 2 * MMAP_THRESHOLD


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - absent outside glibc
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def tunable() -> bool:
    """True where the allocator is glibc's and its thresholds can be set."""
    return _glibc() is not None


@contextmanager
def steady_allocator() -> Iterator[None]:
    """Keep freed memory in the process for the duration of the block.

    On entry, arrays up to :data:`MMAP_THRESHOLD` come from the heap and up to
    :data:`SAMPLING_TRIM_THRESHOLD` of free heap is kept per arena; on exit the free memory
    is released (``malloc_trim``) and the trim threshold drops to
    :data:`RESTING_TRIM_THRESHOLD`.
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, SAMPLING_TRIM_THRESHOLD)
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, RESTING_TRIM_THRESHOLD)
        libc.malloc_trim(0)

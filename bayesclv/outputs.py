"""Writing output files safely: never half-written, never silently replaced.

Every file bayesclv writes (fits, summaries, report tables, workbooks, pages) goes through
:func:`atomic_write`: the content is written to a hidden temporary file in the target's
folder and renamed into place only when complete, so a process killed mid-write leaves the
old file (or none), never a truncated one. An existing file is replaced only when the
caller says so (``overwrite=True``, the CLI's ``--force``); :func:`check_free` lets a caller
refuse *before* any expensive work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from bayesclv.errors import OutputError

__all__ = ["atomic_write", "check_free"]


def check_free(paths: Iterable[str | Path], *, overwrite: bool = False) -> None:
    """Refuse targets that exist (unless ``overwrite``) or that are folders.

    Raises
    ------
    OutputError
        Naming the first path at fault and what to do.
    """
    for path in map(Path, paths):
        if path.is_dir():
            raise OutputError(f"{path} is a folder; give a file name")
        if path.exists() and not overwrite:
            raise OutputError(f"{path} exists; not replacing it (pass --force, or "
                              "overwrite=True in Python, to replace it)")


def atomic_write(path: str | Path, write: Callable[[Path], object], *,
                 overwrite: bool = False) -> Path:
    """Write a file through ``write(temporary_path)`` and move it into place when done.

    Parameters
    ----------
    path
        The final file. Its folder is created if missing.
    write
        Writes the whole content to the path it is given.
    overwrite
        Replace an existing ``path`` (else :class:`~bayesclv.errors.OutputError`).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    check_free([path], overwrite=overwrite)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the folder {path.parent}: {error.strerror}") from None
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path

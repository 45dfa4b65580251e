"""Writes that a crash cannot leave half-done: a temporary file beside the target, then one rename.

os.replace is atomic within a file system, so a reader (or a resumed run) sees the old file or the new
one, never a truncated mix. The temporary name carries the process id, so two processes writing the
same target never share a temporary file, and a failed write removes its temporary file.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import WriteFailed


@contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path` (ending in `suffix`, for writers that append one, e.g. .npz);
    rename it over `path` when the block succeeds, remove it when the block fails."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as e:                    # a full disk, a read-only folder
        raise WriteFailed(f"could not write {path} ({e.strerror or e}); the previous file, if any, is untouched: "
                          f"free disk space or make {path.parent} writable, then run again") from e
    finally:
        tmp.unlink(missing_ok=True)         # gone already after a successful rename


def atomic_write_text(path: Path, text: str) -> None:
    """path.write_text(text), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)

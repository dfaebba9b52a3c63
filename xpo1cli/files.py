"""Files and folders written whole or not at all: into a temporary place beside the target, then
renamed into place, with the permissions an ordinary new file or folder gets."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_folder(out_dir: Path, write: Callable[[Path], object]):
    """write(tmp) into a new temporary folder beside out_dir (a new or empty folder), then renamed
    to out_dir; returns what write returned. On an OSError (a full disk, a refused write) the
    temporary folder and the folders made on the way are removed, and the error raised again."""
    missing = [p for p in [out_dir.absolute(), *out_dir.absolute().parents] if not p.exists()]
    tmp = None
    try:
        out_dir.absolute().parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name[:40]}.", dir=out_dir.absolute().parent))
        done = write(tmp)
        os.chmod(tmp, 0o777 & ~umask())  # as an ordinary new folder, not mkdtemp's 0700
        if out_dir.exists():
            out_dir.rmdir()  # the empty folder named
        os.rename(tmp, out_dir)
        return done
    except OSError:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        for p in missing[1:]:  # folders made on the way, innermost first
            with contextlib.suppress(OSError):
                p.rmdir()
        raise

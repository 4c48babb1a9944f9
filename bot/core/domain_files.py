"""Domain lists a library policy keeps beside itself (`prefilter.domain_files`), read safely.

A policy names the files, so the policy's author chooses what the server reads. Only regular
files inside the policy's own folder are read, at most MAX_BYTES each, and a refused path is
refused before the file system is asked anything, so the error cannot reveal what exists.
Uploaded policies have no folder: they list their domains inline (`prefilter.domains`).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path, PurePath

MAX_BYTES = 2_000_000  # ~100k domains; the largest public phishing lists fit


class DomainFileError(ValueError):
    """A domain file that cannot be used; `field` names it, e.g. 'domain_files[0]'."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def read_domain_files(files: tuple[str, ...], base_dir: Path | None) -> frozenset[str]:
    found: set[str] = set()
    for i, name in enumerate(files):
        field = f"domain_files[{i}]"
        raw = _read(name, base_dir, field)
        if PurePath(name).suffix == ".json":
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DomainFileError(field, f"{name} is not JSON: {exc}") from None
            items = data.get("domains", []) if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise DomainFileError(field, f'{name} must hold a list or {{"domains": [...]}}')
            found.update(str(d).strip().lower().rstrip(".") for d in items if str(d).strip())
        else:
            for line in raw.splitlines():
                line = line.split("#", 1)[0].strip().lower().rstrip(".")
                if line:
                    found.add(line)
    return frozenset(found)


def _read(name: str, base_dir: Path | None, field: str) -> str:
    if base_dir is None:
        raise DomainFileError(
            field,
            "an uploaded policy cannot read files from the server: list the domains under "
            "prefilter.domains instead",
        )
    rel = PurePath(name)
    if rel.is_absolute() or name.startswith("~") or ".." in rel.parts or not rel.parts:
        raise DomainFileError(
            field, f"{name!r} must be a file name relative to the policy's folder, e.g. lists/scam.txt"
        )
    root = base_dir.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):  # a symlink that leads out of the folder
        raise DomainFileError(field, f"{name!r} leads outside the policy's folder")
    try:
        # O_NONBLOCK: opening a FIFO must not hang; fstat then refuses anything but a file.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DomainFileError(field, f"cannot read {name} ({exc.strerror}); fix the path") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DomainFileError(field, f"{name} is not a regular file")
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DomainFileError(field, f"{name} is over {MAX_BYTES:,} bytes; split or trim the list")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainFileError(field, f"{name} is not UTF-8 text") from None

"""Learner progress and the Leitner schedule (notebook 09).

The implementation lives in :mod:`course_utils.progress` (standard library only, so a
progress file can be handled without importing torch); this module is its place in the
interview package. It imports nothing else of the package.
"""

from __future__ import annotations

from course_utils.progress import (
    PROGRESS_ENV,
    PROGRESS_FORMAT,
    PROGRESS_VERSION,
    Leitner,
    Progress,
    ProgressFileError,
    atomic_write_json,
    progress_path,
)

__all__ = [
    "PROGRESS_ENV",
    "PROGRESS_FORMAT",
    "PROGRESS_VERSION",
    "Leitner",
    "Progress",
    "ProgressFileError",
    "atomic_write_json",
    "progress_path",
]

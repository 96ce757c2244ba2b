"""In-order scoreboard: expected results (from a golden model) queued with the inputs that produced them."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np


class Scoreboard:
    """Compares results in order; every mismatch is kept with its context and reported together at the end."""

    def __init__(self, name: str, log: Any = None, max_reports: int = 5) -> None:
        self.name = name
        self.log = log
        self.max_reports = max_reports
        self.pending: deque[tuple[Any, Any]] = deque()
        self.mismatches: list[str] = []
        self.matched = 0

    def expect(self, value: Any, context: Any = None) -> None:
        self.pending.append((np.asarray(value), context))

    def compare(self, got: Any) -> None:
        if not self.pending:
            self.mismatches.append(f"unexpected result {np.asarray(got).tolist()} (nothing was expected)")
            return
        expected, context = self.pending.popleft()
        got = np.asarray(got)
        if got.shape == expected.shape and (got == expected).all():
            self.matched += 1
            return
        report = (f"{self.name} result #{self.matched + len(self.mismatches)}: got {got.tolist()}, "
                  f"expected {expected.tolist()}; inputs: {context}")
        self.mismatches.append(report)
        if self.log is not None and len(self.mismatches) <= self.max_reports:
            self.log.error(report)

    def check(self) -> None:
        """Raise ``AssertionError`` if anything mismatched or an expected result never arrived."""
        problems = list(self.mismatches[: self.max_reports])
        if self.pending:
            problems.append(f"{len(self.pending)} expected results never arrived")
        assert not problems, f"{self.name}: {len(self.mismatches)} mismatches, {self.matched} matched\n" + \
            "\n".join(problems)

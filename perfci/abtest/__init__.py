"""Same-run A/B: the base ref and the working tree measured in one run, interleaved.

``perfci run --against REF`` checks REF out into a temporary git worktree,
starts one measurement worker process per tree (never two versions of the
target in one interpreter), collects the deterministic checks once from each
and the timing checks in alternating rounds (A B, B A, ...), so drift on a
shared machine hits both alike. The gate pipeline (``perfci.gate``) judges
and confirms what ``ABMeasurer`` measures.
"""

from perfci.abtest.coordinator import ABMeasurer, Worker, against_ref, merge_rounds
from perfci.abtest.worktree import Worktree, resolve_ref

__all__ = ["ABMeasurer", "Worker", "Worktree", "against_ref", "merge_rounds", "resolve_ref"]

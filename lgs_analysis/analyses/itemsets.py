"""Exact frequent itemsets, counted over baskets that arrive in bounded blocks.

Level-wise (Apriori): one pass over the baskets per itemset size. Each pass takes the
baskets as blocks of a boolean matrix (baskets x items), so memory holds one block, the
itemsets found and the candidates of one level, never every basket. Counts are exact:
one block's matrix product in float32 is exact below 2**24 baskets, and the blocks'
counts add up in int64.

The mining is bounded by what it may hold (:class:`MiningBudget`, from
``LGS_MEMORY_LIMIT``): more candidates of one size, or more frequent itemsets in all,
than the budget holds raise :class:`TooManyItemsets`, which carries the least basket
count that could fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["MiningBudget", "TooManyItemsets", "count_itemsets", "blocks_of", "MINING_SHARE"]

MINING_SHARE = 4  # the basket mining may hold a quarter of LGS_MEMORY_LIMIT
_ITEMSET_BYTES = 200  # an itemset's entry in the counts (a tuple key and an int)
_RULE_BYTES = 40  # a qualifying rule: support, confidence, lift, block and row
_CANDIDATE_BYTES = 32  # a candidate's count and its place in its group
_MAX_BLOCK = 1 << 24  # float32 counts stay exact below this many baskets per block

Blocks = Callable[[], Iterable[np.ndarray]]


@dataclass(frozen=True)
class MiningBudget:
    """What one mining may hold: itemsets in all, candidates of one size, block bytes."""

    max_itemsets: int
    max_candidates: int
    block_bytes: int

    @classmethod
    def from_memory(cls, memory_limit: int, max_len: int) -> MiningBudget:
        """A quarter of ``memory_limit``: each itemset costs its count and the rules it can
        give (``2**size - 2``), each candidate its count, a block an eighth."""
        budget = memory_limit // MINING_SHARE
        per_itemset = _ITEMSET_BYTES + _RULE_BYTES * (2**max_len - 2)
        return cls(
            max_itemsets=max(1_000, budget // per_itemset),
            max_candidates=max(1_000, budget // (2 * _CANDIDATE_BYTES)),
            block_bytes=max(1 << 20, budget // 8),
        )

    def block_baskets(self, n_items: int) -> int:
        """Baskets per block: a block and its float32 copy fit in ``block_bytes``."""
        return int(min(_MAX_BLOCK, max(16, self.block_bytes // (5 * max(n_items, 1)))))


class TooManyItemsets(Exception):  # noqa: N818 - a signal to the caller, not an error
    """The mining would pass its budget: ``what`` (``candidates`` or ``itemsets``) of
    ``size`` items past ``limit``; any least count below ``at_least`` would too."""

    def __init__(self, what: str, size: int, limit: int, at_least: int) -> None:
        super().__init__(f"more than {limit:,} {what} of {size} items")
        self.what, self.size, self.limit, self.at_least = what, size, limit, at_least


def blocks_of(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]], n_items: int, block_baskets: int
) -> Iterator[np.ndarray]:
    """Boolean blocks (``block_baskets`` x ``n_items``) from (basket, item) numbers.

    ``chunks`` yields pairs of arrays of 0-based basket and item numbers, baskets in
    ascending order across chunks; a basket may straddle two chunks.
    """
    start = 0
    block = np.zeros((block_baskets, n_items), dtype=bool)
    used = 0
    for baskets, items in chunks:
        while len(baskets):
            cut = int(np.searchsorted(baskets, start + block_baskets))
            block[baskets[:cut] - start, items[:cut]] = True
            if cut:
                used = int(baskets[cut - 1]) - start + 1
            if cut == len(baskets):
                break
            yield block
            start += block_baskets
            block = np.zeros((block_baskets, n_items), dtype=bool)
            used = 0
            baskets, items = baskets[cut:], items[cut:]
    if used:
        yield block[:used]


def count_itemsets(
    blocks: Blocks, n_items: int, min_count: int, max_len: int, budget: MiningBudget
) -> dict[tuple[int, ...], int]:
    """Every itemset of up to ``max_len`` items held by at least ``min_count`` baskets.

    Parameters
    ----------
    blocks : callable
        Returns the baskets anew, as boolean blocks of ``n_items`` columns (one call per
        itemset size).
    n_items, min_count, max_len : int
    budget : MiningBudget

    Returns
    -------
    dict
        Itemset (a sorted tuple of item columns) -> number of baskets holding it.

    Raises
    ------
    TooManyItemsets
        Before a level whose candidates, or after one whose itemsets, pass ``budget``.
    """
    single = np.zeros(n_items, dtype=np.int64)
    for block in blocks():
        single += block.sum(axis=0)
    frequent = np.flatnonzero(single >= min_count)
    counts: dict[tuple[int, ...], int] = {(int(i),): int(single[i]) for i in frequent}
    _check_itemsets(counts, budget, 1)
    if max_len < 2 or len(frequent) < 2:
        return counts
    level = frequent.reshape(-1, 1)
    level_counts = single[frequent]
    size = 1
    while len(level) >= 2 and size < max_len:
        size += 1
        groups = _groups(level)
        unpruned = sum(len(g) * (len(g) - 1) // 2 for _, g in groups)
        if unpruned > budget.max_candidates:
            at_least = _least_count_for_candidates(level, level_counts, budget.max_candidates)
            raise TooManyItemsets("candidates", size, budget.max_candidates, at_least)
        level, level_counts = _count_level(blocks, level, groups, n_items, min_count)
        counts.update(zip(map(tuple, level.tolist()), level_counts.tolist(), strict=True))
        _check_itemsets(counts, budget, size)
    return counts


def _check_itemsets(counts: dict[tuple[int, ...], int], budget: MiningBudget, size: int) -> None:
    if len(counts) <= budget.max_itemsets:
        return
    values = np.sort(np.fromiter(counts.values(), np.int64, len(counts)))[::-1]
    # any least count up to the (max + 1)-th largest keeps more than max itemsets
    raise TooManyItemsets(
        "itemsets", size, budget.max_itemsets, int(values[budget.max_itemsets]) + 1
    )


def _groups(level: np.ndarray) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """The itemsets of ``level`` (sorted rows) grouped by all but their last item."""
    if level.shape[1] == 1:
        return [((), level[:, 0])]
    prefixes = level[:, :-1]
    starts = np.flatnonzero(np.r_[True, (prefixes[1:] != prefixes[:-1]).any(axis=1)])
    ends = np.r_[starts[1:], len(level)]
    return [
        (tuple(int(v) for v in prefixes[s]), level[s:e, -1])
        for s, e in zip(starts, ends, strict=True)
        if e - s >= 2
    ]


def _least_count_for_candidates(level: np.ndarray, counts: np.ndarray, limit: int) -> int:
    """The least count at which the itemsets of ``level`` holding it give at most ``limit``
    candidates of the next size (before pruning); any lower count gives more."""
    if level.shape[1] == 1:
        prefix = np.zeros(len(level), dtype=np.int64)
    else:
        _, prefix = np.unique(level[:, :-1], axis=0, return_inverse=True)
        prefix = prefix.reshape(-1)
    values = np.unique(counts)
    low, high = 0, len(values) - 1  # the answer is values[i] + ... ; search the index

    def candidates(least: int) -> int:
        sizes = np.bincount(prefix[counts >= least])
        return int((sizes * (sizes - 1) // 2).sum())

    if candidates(int(values[high])) > limit:
        return int(values[high]) + 1
    while low < high:
        middle = (low + high) // 2
        if candidates(int(values[middle])) <= limit:
            high = middle
        else:
            low = middle + 1
    return int(values[low])


def _count_level(
    blocks: Blocks,
    level: np.ndarray,
    groups: list[tuple[tuple[int, ...], np.ndarray]],
    n_items: int,
    min_count: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The frequent itemsets one item larger than ``level``'s, and their counts.

    A candidate joins two itemsets of a group (``prefix + (a,)`` and ``prefix + (b,)``)
    and is kept only if each of its other subsets is in ``level``; one pass over the
    baskets counts them all, a matrix product per group and block.
    """
    size = level.shape[1] + 1
    known = _Known(level, n_items)
    plan = []  # (prefix, lasts, first, second, offset into the counts)
    total = 0
    for prefix, lasts in groups:
        first, second = np.triu_indices(len(lasts), k=1)
        keep = known.has_subsets(prefix, lasts, first, second)
        first, second = first[keep], second[keep]
        if len(first):
            plan.append((prefix, lasts, first, second, total))
            total += len(first)
    found = np.zeros(total, dtype=np.int64)
    for block in blocks():
        columns = np.asfortranarray(block)  # one item's baskets are contiguous
        head, head_rows = None, None
        for prefix, lasts, first, second, offset in plan:
            if prefix:
                if prefix[:-1] != head:  # groups in order: consecutive ones share a head
                    head = prefix[:-1]
                    head_rows = np.ones(len(columns), dtype=bool)
                    for item in head:
                        head_rows &= columns[:, item]
                rows = np.flatnonzero(head_rows & columns[:, prefix[-1]])
                held = columns[np.ix_(rows, lasts)].astype(np.float32)
            else:
                held = columns[:, lasts].astype(np.float32)
            together = held.T @ held  # exact: a block has fewer than 2**24 baskets
            found[offset : offset + len(first)] += together[first, second].astype(np.int64)
    out_rows, out_counts = [], []
    for prefix, lasts, first, second, offset in plan:
        ok = found[offset : offset + len(first)] >= min_count
        if not ok.any():
            continue
        rows = np.empty((int(ok.sum()), size), dtype=np.int64)
        rows[:, : len(prefix)] = prefix
        rows[:, -2] = lasts[first[ok]]
        rows[:, -1] = lasts[second[ok]]
        out_rows.append(rows)
        out_counts.append(found[offset : offset + len(first)][ok])
    if not out_rows:
        return np.empty((0, size), dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(out_rows), np.concatenate(out_counts)


class _Known:
    """The itemsets of one level, to check a candidate's subsets: integer keys looked up
    in numpy where the item numbers allow, else a set of tuples."""

    def __init__(self, level: np.ndarray, n_items: int) -> None:
        self.base = n_items + 1
        self.width = level.shape[1]
        self.vectorized = self.base ** (self.width + 1) < 2**62
        if self.vectorized:
            self.keys = np.sort(level @ self._weights(self.width))
        else:
            self.tuples = set(map(tuple, level.tolist()))

    def _weights(self, width: int) -> np.ndarray:
        return self.base ** np.arange(width - 1, -1, -1, dtype=np.int64)

    def has_subsets(
        self, prefix: tuple[int, ...], lasts: np.ndarray, first: np.ndarray, second: np.ndarray
    ) -> np.ndarray:
        """For each candidate ``prefix + (lasts[first], lasts[second])``, whether every
        subset dropping one prefix item is known (dropping either last item gives an
        itemset of the group itself)."""
        ok = np.ones(len(first), dtype=bool)
        for k in range(len(prefix)):
            rest = prefix[:k] + prefix[k + 1 :]
            if self.vectorized:
                head = 0
                for item in rest:
                    head = head * self.base + item
                keys = (head * self.base + lasts[first]) * self.base + lasts[second]
                at = np.searchsorted(self.keys, keys).clip(max=len(self.keys) - 1)
                ok &= self.keys[at] == keys
            else:
                ok &= np.fromiter(
                    (
                        (*rest, int(a), int(b)) in self.tuples
                        for a, b in zip(lasts[first], lasts[second], strict=True)
                    ),
                    bool,
                    len(first),
                )
        return ok

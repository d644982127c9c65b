"""Tiers from qualifying points: accrued (not re-credited) points earned within the program's
window, net of reversals. Recomputed on every accrual and reversal and when the program changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from qsr_kit.domain import specs
from qsr_loyalty.domain.lots import Lot, LotSource


@dataclasses.dataclass(frozen=True)
class Standing:
    tier: specs.Tier | None
    qualifying: int
    next_tier: specs.Tier | None
    to_next: int


def qualifying_points(lots: Iterable[Lot], *, tiering: specs.Tiering, now: dt.datetime) -> int:
    since = now - dt.timedelta(days=tiering.window_days)
    return sum(
        max(lot.points - lot.reversed, 0)
        for lot in lots
        if lot.source == LotSource.ACCRUAL and since < lot.earned_at <= now
    )


def standing_for(qualifying: int, tiering: specs.Tiering) -> Standing:
    """The highest tier whose threshold is met, and how far the next one is."""
    ladder = sorted(tiering.tiers, key=lambda t: t.threshold)
    reached = [t for t in ladder if t.threshold <= qualifying]
    ahead = [t for t in ladder if t.threshold > qualifying]
    nxt = ahead[0] if ahead else None
    return Standing(
        tier=reached[-1] if reached else None,
        qualifying=qualifying,
        next_tier=nxt,
        to_next=nxt.threshold - qualifying if nxt else 0,
    )

"""The rule engine: points an order earns under a program, with the rules that produced them.

Pure and deterministic: member context, store time zone and program arrive as arguments.
Order of evaluation (fixed, so two managers reading the spec get the same number):
base rate per line (item multiplier, else category multiplier) → discount share → channel →
dayparts → multiplier windows → tier → rounding → fixed bonuses → per-order cap → per-day cap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from qsr_kit.domain import specs
from qsr_loyalty.domain import orders

_ROUNDING = {
    specs.Rounding.FLOOR: ROUND_FLOOR,
    specs.Rounding.CEIL: ROUND_CEILING,
    specs.Rounding.NEAREST: ROUND_HALF_UP,
}


@dataclasses.dataclass(frozen=True)
class MemberContext:
    """What the engine needs to know about the member at the time of the order."""

    tier: specs.Tier | None = None
    birthday: dt.date | None = None
    orders_before: int = 0
    birthday_bonus_year: int | None = None
    earned_today: int = 0


@dataclasses.dataclass(frozen=True)
class Step:
    """One rule that changed the result; `rule` points into the program spec."""

    rule: str
    detail: str
    points: Decimal


@dataclasses.dataclass(frozen=True)
class Accrual:
    points: int
    steps: tuple[Step, ...]
    birthday_bonus: bool = False

    def explanation(self) -> list[dict[str, str]]:
        return [{"rule": s.rule, "detail": s.detail, "points": str(s.points)} for s in self.steps]


def rounded(value: Decimal, rounding: specs.Rounding) -> int:
    """An exact decimal rounded to whole points as the program declares."""
    return int(value.quantize(Decimal(1), rounding=_ROUNDING[rounding]))


# The program's numbers and times are parsed once per distinct value, not once per order (the
# engine runs per event on the consumer's hot path); Decimal, time and datetime are immutable.
@functools.lru_cache(maxsize=4096)
def _dec(value: float) -> Decimal:
    return Decimal(str(value))


@functools.lru_cache(maxsize=4096)
def _clock(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


@functools.lru_cache(maxsize=4096)
def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def in_window(local: dt.time, *, start: str, end: str) -> bool:
    """Is a local time in [start, end)? `end` before `start` wraps midnight; equal = all day."""
    begin, finish = _clock(start), _clock(end)
    if begin == finish:
        return True
    if begin < finish:
        return begin <= local < finish
    return local >= begin or local < finish


def _base_points(order: orders.Order, earning: specs.Earning, currency: str) -> list[Step]:
    unit = Decimal(10) ** orders.minor_exponent(currency)
    rate = _dec(earning.base_points_per_unit)
    by_sku = {m.sku: m.multiplier for m in earning.item_multipliers}
    by_category = {m.category: m.multiplier for m in earning.category_multipliers}
    spend = Decimal(order.subtotal_minor) / unit
    steps = [Step("earning.basePointsPerUnit", f"{rate} per {currency} on {spend}", spend * rate)]
    for line in order.lines:
        if line.sku in by_sku:
            rule, factor = f"earning.itemMultipliers[{line.sku}]", _dec(by_sku[line.sku])
        elif line.category is not None and line.category in by_category:
            rule, factor = (
                f"earning.categoryMultipliers[{line.category}]",
                _dec(by_category[line.category]),
            )
        else:
            continue
        if factor == 1:
            continue
        extra = Decimal(line.amount_minor) / unit * rate * (factor - 1)
        steps.append(Step(rule, f"x{factor} on {line.sku}", extra))
    return steps


def _order_multipliers(
    order: orders.Order,
    program: specs.LoyaltyProgramSpec,
    *,
    tier: specs.Tier | None,
    local: dt.time,
) -> list[tuple[str, str, Decimal]]:
    earning = program.earning
    found: list[tuple[str, str, Decimal]] = []
    for ch in earning.channel_multipliers:
        if ch.channel == order.channel:
            found.append(
                (f"earning.channelMultipliers[{ch.channel}]", ch.channel.value, _dec(ch.multiplier))
            )
    for part in earning.dayparts:
        if in_window(local, start=part.start, end=part.end):
            detail = f"{part.start}-{part.end} store time"
            found.append((f"earning.dayparts[{part.name}]", detail, _dec(part.multiplier)))
    for bonus in earning.bonuses:
        if bonus.kind == specs.BonusKind.MULTIPLIER_WINDOW and _window_open(bonus, order.placed_at):
            found.append(
                (f"earning.bonuses[{bonus.name}]", "multiplier window", _dec(bonus.multiplier))
            )
    if tier is not None:
        found.append((f"tiering.tiers[{tier.name}]", "tier multiplier", _dec(tier.multiplier)))
    return [item for item in found if item[2] != 1]


def _window_open(bonus: specs.Bonus, at: dt.datetime) -> bool:
    if bonus.starts_at is None or bonus.ends_at is None:
        return False
    starts, ends = _instant(bonus.starts_at), _instant(bonus.ends_at)
    return starts <= at < ends


def _fixed_bonuses(
    order: orders.Order, program: specs.LoyaltyProgramSpec, member: MemberContext, today: dt.date
) -> tuple[list[Step], bool]:
    steps: list[Step] = []
    birthday = False
    for bonus in program.earning.bonuses:
        if bonus.kind == specs.BonusKind.FIRST_ORDER and member.orders_before == 0:
            steps.append(
                Step(f"earning.bonuses[{bonus.name}]", "first order", Decimal(bonus.points))
            )
        is_birthday = member.birthday is not None and (
            member.birthday.month,
            member.birthday.day,
        ) == (
            today.month,
            today.day,
        )
        if (
            bonus.kind == specs.BonusKind.BIRTHDAY
            and is_birthday
            and member.birthday_bonus_year != today.year
        ):
            steps.append(Step(f"earning.bonuses[{bonus.name}]", "birthday", Decimal(bonus.points)))
            birthday = True
    return steps, birthday


def points_for(
    order: orders.Order,
    program: specs.LoyaltyProgramSpec,
    *,
    member: MemberContext,
    store_tz: dt.tzinfo,
) -> Accrual:
    """Points the order earns, each step naming the spec rule that produced it."""
    local = order.placed_at.astimezone(store_tz)
    steps = _base_points(order, program.earning, program.currency)
    value = sum((s.points for s in steps), Decimal(0))
    if order.discount_minor and order.subtotal_minor:
        share = Decimal(order.paid_minor) / Decimal(order.subtotal_minor)
        steps.append(Step("order.discount", f"x{share:.4f} paid share", value * share - value))
        value *= share
    for rule, detail, factor in _order_multipliers(
        order, program, tier=member.tier, local=local.time()
    ):
        steps.append(Step(rule, f"x{factor} {detail}", value * factor - value))
        value *= factor
    whole = rounded(value, program.earning.rounding)
    steps.append(
        Step("earning.rounding", f"{program.earning.rounding} of {value}", Decimal(whole) - value)
    )
    bonuses, birthday = _fixed_bonuses(
        order, program, member, orders.local_date(order, store_tz=store_tz)
    )
    steps.extend(bonuses)
    total = whole + sum(int(b.points) for b in bonuses)
    caps = program.earning.caps
    if caps.per_order is not None and total > caps.per_order:
        steps.append(
            Step(
                "earning.caps.perOrder",
                f"at most {caps.per_order}",
                Decimal(caps.per_order - total),
            )
        )
        total = caps.per_order
    if caps.per_day is not None:
        room = max(caps.per_day - member.earned_today, 0)
        if total > room:
            detail = f"at most {caps.per_day} a day, {member.earned_today} earned today"
            steps.append(Step("earning.caps.perDay", detail, Decimal(room - total)))
            total = room
    return Accrual(points=total, steps=tuple(steps), birthday_bonus=birthday)

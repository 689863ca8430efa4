"""Calendar quarters: the unit of the network's growth charts and of the events' timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def from_key(cls, key: int) -> Quarter:
        """From ``year * 10 + quarter``, as SQL computes it (``statistics.sql.year_quarter``)."""
        return cls(key // 10, key % 10)

    @property
    def starts_on(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def ends_on(self) -> date:
        return self.next().starts_on - timedelta(days=1)

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def quarters_between(start: date, end: date) -> list[Quarter]:
    """Every quarter from the one holding ``start`` to the one holding ``end``, in order."""
    if end < start:
        return []
    quarters = [Quarter.of(start)]
    last = Quarter.of(end)
    while quarters[-1] < last:
        quarters.append(quarters[-1].next())
    return quarters

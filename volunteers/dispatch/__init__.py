"""The dispatch engine: find the right people for a task, nearest first, in waves, over app
and SMS, until it is staffed (DESIGN.md principles 1-4, 6).

- parameters.py  answer time, wave factor, radius, ranking band: per priority, area, mode
- pool.py        who is eligible now (a query) and the spatial candidate step (H3 cells)
- ranking.py     the documented ranking: distance bands, reliability, load
- waves.py       offer_next_wave(task_id): one wave, widening the radius as needed
- delivery.py    push and SMS for offers, withdrawals, endings, the unstaffed alert
- state.py       the task status machine and the moves every path shares
- sweep.py       the periodic sweep: expiries, due waves, recovery
- timeline.py    TaskEvent rows and live pushes
"""

from .parameters import (
    DispatchParameters,
    clear_area_dispatch_override,
    dispatch_parameters,
    set_area_dispatch_override,
)
from .waves import WaveResult, offer_next_wave

__all__ = [
    "DispatchParameters",
    "WaveResult",
    "clear_area_dispatch_override",
    "dispatch_parameters",
    "offer_next_wave",
    "set_area_dispatch_override",
]

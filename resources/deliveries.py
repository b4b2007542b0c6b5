"""Tasks that carry supplies ("2 boxes of water to this household").

    add_task_supply(task, warehouse, item, 2, household=h, by=staff)  # reserves the stock
    remove_task_supply(line, by=staff)                                # frees it again
    settle_task_supplies(task, closing)     # volunteers' task-closed handler (AppConfig.ready)

Attaching a line reserves its quantity at the warehouse (a conditional UPDATE: free stock
must cover it, or INSUFFICIENT_STOCK and nothing is written). When the task is DONE every
reserved line becomes a DISTRIBUTED movement to its household, in the transaction that
closes the task; when it is CANCELLED the reservations are released. A line is settled
once: its status moves by a conditional UPDATE from RESERVED.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from community.models import Household, User
from core.errors import ValidationError
from volunteers.models import Task, TaskStatus
from volunteers.services import TaskClosing

from .error_codes import ResourcesErrorCode as Code
from .models import DeliveryStatus, MovementKind, SupplyItem, TaskSupply, Warehouse
from .supplies import append, check_quantity, release, reserve, stock_row, take, watch_threshold

MAX_LINES_PER_TASK = 20


def add_task_supply(task: Task, warehouse: Warehouse, item: SupplyItem, quantity: int, *, household: Household | None = None,
                    by: User | None, now: dt.datetime | None = None) -> TaskSupply:
    quantity = check_quantity(quantity)
    now = now or timezone.now()
    if task.is_closed:
        raise ValidationError({"task_id": "The task is over."}, code=Code.TASK_CLOSED)
    if task.is_drill:  # a drill never touches real stock
        raise ValidationError({"task_id": "A drill task carries no real supplies."}, code=Code.DRILL_TASK)
    if household is not None and not household.grid.path.startswith(task.area.path):
        raise ValidationError({"household_id": "The household is not in the task's area."}, code=Code.INVALID)
    if not item.is_active or not warehouse.is_active:
        raise ValidationError({"item_id": "The item or warehouse is no longer in use."}, code=Code.INVALID)
    with transaction.atomic():
        locked = Task.objects.select_for_update(no_key=True, of=("self",)).get(pk=task.pk)
        if locked.is_closed:
            raise ValidationError({"task_id": "The task is over."}, code=Code.TASK_CLOSED)
        if TaskSupply.objects.filter(task=locked).count() >= MAX_LINES_PER_TASK:
            raise ValidationError({"task_id": f"At most {MAX_LINES_PER_TASK} lines per task."}, code=Code.INVALID)
        stock = stock_row(warehouse, item)
        reserve(stock, quantity, now=now)
        line = TaskSupply.objects.create(task=locked, warehouse=warehouse, item=item, quantity=quantity, household=household,
                                         reserved_at=now, created_by=by)
        watch_threshold(stock, now)
    return line


def remove_task_supply(line: TaskSupply, *, now: dt.datetime | None = None) -> TaskSupply:
    now = now or timezone.now()
    with transaction.atomic():
        if not TaskSupply.objects.filter(pk=line.pk, status=DeliveryStatus.RESERVED).update(
                status=DeliveryStatus.RELEASED, settled_at=now):
            raise ValidationError({"task_supply_id": "Already distributed or released."}, code=Code.ALREADY_SETTLED)
        stock = stock_row(line.warehouse, line.item)
        release(stock, line.quantity, now=now)
        watch_threshold(stock, now)
    line.refresh_from_db()
    return line


def settle_task_supplies(task: Task, closing: TaskClosing) -> None:
    """Done: what the task carried was distributed. Cancelled: the stock is free again."""
    lines = list(TaskSupply.objects.filter(task=task, status=DeliveryStatus.RESERVED).select_related("warehouse", "item",
                                                                                                      "household"))
    for line in lines:
        done = closing.status == TaskStatus.DONE
        status = DeliveryStatus.DISTRIBUTED if done else DeliveryStatus.RELEASED
        if not TaskSupply.objects.filter(pk=line.pk, status=DeliveryStatus.RESERVED).update(status=status,
                                                                                             settled_at=closing.at):
            continue
        stock = stock_row(line.warehouse, line.item)
        if not done:
            release(stock, line.quantity, now=closing.at)
            watch_threshold(stock, closing.at)
            continue
        take(stock, line.quantity, from_reserved=True, now=closing.at)
        movement = append(stock, MovementKind.DISTRIBUTED, -line.quantity, by=closing.by, now=closing.at,
                          reason=f"任务：{task.title}"[:500], household=line.household, task=task,
                          idempotency_key=f"task-supply:{line.pk}")
        TaskSupply.objects.filter(pk=line.pk).update(movement=movement)

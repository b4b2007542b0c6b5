"""Live tasks and offers over the WebSocket.

- myOffers: each offer made to you as it is made, and again whenever it changes;
- taskUpdated(taskId): every change of one task (staff, and people offered it or on it);
- tasksInArea(areaId): staff's board — tasks created or changed anywhere in the subtree.

Events only name the row; it is re-read through the scoped types, so a push never shows
more than a query would (and nothing once access is gone).
"""

from __future__ import annotations

import graphene
from asgiref.sync import sync_to_async

from community.models import Area
from notifications import events
from volunteers import access
from volunteers.models import Offer, Task

from ..core.errors import NotAuthenticated, PermissionDenied
from ..core.types import decode_id
from .task_types import OfferType, TaskEventKindEnum, TaskType, optimise_tasks
from .types import plain

TASK_EVENTS = (events.TASK_CREATED, events.TASK_UPDATED)
OFFER_EVENTS = (events.OFFER_CREATED, events.OFFER_UPDATED)


class TaskChangeEvent(graphene.ObjectType):
    class Meta:
        name = "TaskChangeEvent"

    created = graphene.Boolean(required=True, description="The task is new.")
    change = graphene.Field(TaskEventKindEnum, required=True, description="What happened (the timeline's kind).")
    task = graphene.Field(TaskType, required=True)


def _user(info):
    user = info.context.user
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    return user


def _not_found(what: str) -> PermissionDenied:
    return PermissionDenied(f"No such {what}, or you may not see it.", code="NOT_FOUND")


def _visible_task(user, task_id: str) -> Task:
    try:
        pk = decode_id(task_id, "Task", "task_id")
    except Exception:  # noqa: BLE001
        raise _not_found("task")
    task = access.visible_tasks(user).filter(pk=pk).first()
    if task is None:
        raise _not_found("task")
    return task


def _managed_area(user, area_id: str) -> Area:
    try:
        area = Area.objects.filter(pk=decode_id(area_id, "Area", "area_id")).first()
    except Exception:  # noqa: BLE001
        area = None
    if area is None or not access.can_manage_task(user, area):
        raise _not_found("area")
    return area


def _load_task(user, event: dict) -> dict | None:
    task_id = event.get("taskId")
    if task_id is None:
        return None
    task = optimise_tasks(access.visible_tasks(user).filter(pk=task_id), user).first()
    if task is None:  # access gone meanwhile: say nothing
        return None
    return {"created": event["type"] == events.TASK_CREATED, "change": event.get("change"), "task": task}


def _load_offer(user, offer_id) -> Offer | None:
    return (Offer.objects.select_related("task__area", "user").filter(pk=offer_id, user=user)
            .annotate(person_shown=access.personal_data_in_own_right(user)).first())


class TaskSubscriptions(graphene.ObjectType):
    my_offers = graphene.Field(OfferType, required=True, description="Offers made to you, and every change to them.")
    task_updated = graphene.Field(
        TaskChangeEvent, required=True, task_id=graphene.ID(required=True),
        description="Every change of a task you manage, were offered or are on.",
    )
    tasks_in_area = graphene.Field(
        TaskChangeEvent, required=True, area_id=graphene.ID(required=True),
        description="Staff: tasks created or changed anywhere in this area's subtree.",
    )

    async def subscribe_my_offers(root, info):
        user = _user(info)
        stream = await info.context.listen([events.user_group(user.pk)]).open()

        async def generate():
            try:
                async for event in stream:
                    if event.get("type") in OFFER_EVENTS:
                        offer = await sync_to_async(_load_offer)(user, event.get("offerId"))
                        if offer is not None:
                            yield offer
            finally:
                await stream.close()

        return generate()

    async def subscribe_task_updated(root, info, task_id):
        user = _user(info)
        task = await sync_to_async(_visible_task)(user, task_id)
        return await _stream(info, user, [events.task_group(task.pk)])

    async def subscribe_tasks_in_area(root, info, area_id):
        user = _user(info)
        area = await sync_to_async(_managed_area)(user, area_id)
        # Task events go to the task's area and every ancestor: one group covers the subtree.
        return await _stream(info, user, [events.area_group(area.pk)])

    def resolve_my_offers(root, info):
        return root

    def resolve_task_updated(root, info, task_id):
        return root

    def resolve_tasks_in_area(root, info, area_id):
        return root


async def _stream(info, user, groups: list[str]):
    stream = await info.context.listen(groups).open()

    async def generate():
        try:
            async for event in stream:
                if event.get("type") in TASK_EVENTS:
                    payload = await sync_to_async(_load_task)(user, event)
                    if payload is not None:
                        payload["change"] = plain(payload["change"])
                        yield payload
        finally:
            await stream.close()

    return generate()

"""Reaching people: offers by push (notification history + myOffers, and the phone woken
through the push outbox) and by SMS with a reply code; withdrawals, endings and the staff alert
when nobody is left. Everything is written in the caller's transaction (notification rows,
outbox rows) and pushed or sent after commit.

An offer's pushes and SMS ride its task's lane (offer_lane: life-safety tasks and welfare
visits in the life-safety lane, claimed first and drained by the life-safety workers); its
pushes share a collapse key (offer_push_key), so the withdrawal replaces the offer on the
phone. Both are about the Offer (related), so whatever closes an offer (answered, expired,
withdrawn, taken by staff, undeliverable) drops those still queued with supersede_messages."""

from __future__ import annotations

import math

from graphql_relay import to_global_id

from community.models import Role, RoleAssignment, User
from notifications.consent import opted_out_phones
from notifications.lanes import lane_for
from notifications.models import SmsMessage, SmsStatus
from notifications.outbox import HANDED_OVER, SmsItem, queue_sms_bulk
from notifications.services import notify_many, notify_template
from notifications.unreachable import unreachable_phones

from ..models import ContactChannel, Offer, OfferPool, Task, TaskAssignment, TaskSource
from .texts import ENDED_WHY, WITHDRAWN_WHY, distance_text, pick
from .timeline import publish_offer

SMS_CHANNELS = (ContactChannel.SMS, ContactChannel.BOTH)


def offer_data(offer: Offer) -> dict[str, object]:
    return {
        "offerId": to_global_id("Offer", offer.pk), "taskId": to_global_id("Task", offer.task_id),
        "expiresAt": offer.expires_at.isoformat(),
    }


def _context(task: Task, offer: Offer, language: str) -> dict[str, object]:
    minutes = max(1, math.ceil((offer.expires_at - offer.offered_at).total_seconds() / 60))
    return {
        "task": task.title, "area": task.area.name, "headcount": task.headcount,
        "distance": distance_text(offer.distance_m, language), "minutes": minutes,
    }


def sms_recipients(offers: list[Offer], users: dict[int, User], channels: dict[int, str]) -> set[int]:
    """User ids to text: volunteers who chose SMS or both, Party members with a phone; never
    a number that opted out or that carriers report dead."""
    wanted = {
        o.user_id for o in offers
        if users[o.user_id].phone and (o.pool == OfferPool.PARTY_MEMBER or channels.get(o.user_id) in SMS_CHANNELS)
    }
    phones = [str(users[uid].phone) for uid in wanted]
    refused = opted_out_phones(phones) | unreachable_phones(phones)
    return {uid for uid in wanted if str(users[uid].phone) not in refused}


def offer_lane(task: Task) -> int:
    """Life-safety tasks and welfare visits to silent residents go in the life-safety lane."""
    return lane_for("task_offer", priority=task.priority, welfare_visit=task.source == TaskSource.SAFETY_CHECK)


def offer_push_key(offer: Offer) -> str:
    """The collapse key (and the push's `ref`) of every push about one offer."""
    return f"offer-{offer.pk}"


def handed_over(message_ids: list[int | None]) -> set[int]:
    """Those of the messages a carrier has (or may have): only their people are told more."""
    ids = [pk for pk in message_ids if pk is not None]
    return set(SmsMessage.objects.filter(pk__in=ids, status__in=HANDED_OVER).values_list("pk", flat=True)) if ids else set()


def deliver_offers(task: Task, offers: list[Offer], channels: dict[int, str]) -> None:
    """Push every offer; text those whose channel includes SMS (reply code, expires with it)."""
    if not offers:
        return

    users = User.objects.in_bulk([o.user_id for o in offers])
    texted = sms_recipients(offers, users, channels)
    lane = offer_lane(task)
    items: list[SmsItem] = []
    for offer in offers:
        user = users[offer.user_id]
        context = _context(task, offer, user.preferred_language)
        if offer.team_id is not None:  # the leader answers for the team, in the app
            context["team"] = offer.team.name if offer.team else ""
            notify_template(user, "task.team_offer", context, kind="task.team_offer", data=offer_data(offer), related=offer,
                            is_drill=task.is_drill, lane=lane, collapse_key=offer_push_key(offer))
            publish_offer(offer, created=True)
            continue
        notify_template(user, "task.offer", context, kind="task.offer", data=offer_data(offer), related=offer, is_drill=task.is_drill,
                        lane=lane, collapse_key=offer_push_key(offer))
        publish_offer(offer, created=True)
        if offer.user_id in texted:
            items.append(SmsItem(
                template="task.offer.sms", context=context, purpose="task_offer", idempotency_key=f"task-offer:{offer.pk}",
                to_user=user, related=offer, is_drill=task.is_drill, expects_reply=True, reply_until=offer.expires_at,
                lane=lane,
            ))
    if items:
        _link_sms(offers, items)


def _link_sms(offers: list[Offer], items: list[SmsItem]) -> None:
    queue_sms_bulk(items)
    keys = [i["idempotency_key"] for i in items]
    rows = {k: (pk, code, status) for k, pk, code, status in SmsMessage.objects.filter(idempotency_key__in=keys)
            .values_list("idempotency_key", "pk", "reply_code", "status")}
    linked = []
    for offer in offers:
        row = rows.get(f"task-offer:{offer.pk}")
        if row is not None and row[2] != SmsStatus.REFUSED:
            offer.sms_message_id, offer.sms_code = row[0], row[1]
            linked.append(offer)
    Offer.objects.bulk_update(linked, ["sms_message", "sms_code"], batch_size=500)


def tell_withdrawn(task: Task, offers: list[Offer], reason: str) -> None:
    """Push to everyone whose offer was withdrawn; SMS only to those whose offer SMS reached a
    carrier (one still queued was superseded, or refused: they never heard of the task)."""
    users = User.objects.in_bulk([o.user_id for o in offers])
    texted = handed_over([o.sms_message_id for o in offers])
    items: list[SmsItem] = []
    for offer in offers:
        user = users[offer.user_id]
        why = pick(WITHDRAWN_WHY[str(reason)], user.preferred_language)
        context = {"task": task.title, "why": why}
        # The same collapse key: "no longer needed" replaces the offer on the phone.
        notify_template(user, "task.offer.withdrawn", context, kind="task.offer.withdrawn", data=offer_data(offer),
                        related=offer, is_drill=task.is_drill, collapse_key=offer_push_key(offer))
        if offer.sms_message_id in texted:
            items.append(SmsItem(template="task.offer.withdrawn.sms", context=context, purpose="task_offer_withdrawn",
                              idempotency_key=f"task-offer-withdrawn:{offer.pk}", to_user=user, related=offer,
                              is_drill=task.is_drill))
    if items:
        queue_sms_bulk(items)


def tell_assignment_ended(task: Task, assignment: TaskAssignment, why_key: str) -> None:
    """Someone holding a place is told the task was cancelled, they were removed, or it ended."""
    user = assignment.user
    context = {"task": task.title, "why": pick(ENDED_WHY[why_key], user.preferred_language)}
    data = {"taskId": to_global_id("Task", task.pk), "assignmentId": to_global_id("TaskAssignment", assignment.pk)}
    notify_template(user, "task.assignment.ended", context, kind=f"task.assignment.{why_key.lower()}", data=data,
                    related=assignment, is_drill=task.is_drill)
    offer = assignment.offer
    if offer is not None and offer.sms_message_id in handed_over([offer.sms_message_id]):
        queue_sms_bulk([SmsItem(template="task.assignment.ended.sms", context=context, purpose="task_assignment_ended",
                             idempotency_key=f"task-assignment-ended:{assignment.pk}:{why_key}", to_user=user,
                             related=assignment, is_drill=task.is_drill)])


def grid_staff(task: Task) -> list[User]:
    """Grid workers and community admins over the task's area: the people to alert."""
    return list(
        User.objects.filter(
            roles__area__path__in=task.area.ancestor_paths(), roles__role__in=[Role.GRID_WORKER, Role.COMMUNITY_ADMIN],
            is_active=True,
        ).distinct()
    )


def alert_unstaffed(task: Task, *, offers: int, radius_m: int) -> int:
    staff = grid_staff(task)
    if task.created_by_id and task.created_by_id not in {u.pk for u in staff} and RoleAssignment.objects.filter(user_id=task.created_by_id).exists() \
            and task.created_by is not None:
        staff.append(task.created_by)
    if not staff:
        return 0
    context = {"task": task.title, "area": task.area.name, "offers": offers, "missing": task.places_left,
               "radius": f"{radius_m / 1000:g} km"}
    return notify_many(staff, kind="task.unstaffed", template="task.unstaffed", context=context,
                       data={"taskId": to_global_id("Task", task.pk)}, related=task, is_drill=task.is_drill)

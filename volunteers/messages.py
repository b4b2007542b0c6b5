"""What volunteers and Party members are told when staff decide about them (push and
notification history, via notifications.services.notify). Simplified Chinese by default,
English when the user prefers it."""

from __future__ import annotations

from django.db import models

from community.models import User
from notifications.services import notify

# kind -> (title zh, body zh, title en, body en); bodies are formatted with the context.
_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "volunteer.approved": (
        "志愿者申请已通过", "您已成为{area}的志愿者，打开“我能帮忙”即可接收任务。",
        "Volunteer application approved", "You are now a volunteer in {area}. Switch on \"I can help now\" to receive tasks.",
    ),
    "volunteer.suspended": (
        "志愿者资格已暂停", "原因：{reason}。如有疑问请联系社区。",
        "Volunteer account suspended", "Reason: {reason}. Contact your community if you have questions.",
    ),
    "volunteer.reinstated": (
        "志愿者资格已恢复", "您可以重新接收任务了。",
        "Volunteer account reinstated", "You can receive tasks again.",
    ),
    "party.confirmed": (
        "报到已确认", "您已成功到{community}报到。",
        "Registration confirmed", "Your registration with {community} is confirmed.",
    ),
    "party.rejected": (
        "报到未通过", "您在{community}的报到未通过。原因：{reason}",
        "Registration not accepted", "Your registration with {community} was not accepted. Reason: {reason}",
    ),
    "party.ended": (
        "报到已结束", "您在{community}的报到已结束。{reason}",
        "Registration ended", "Your registration with {community} has ended. {reason}",
    ),
}


def tell(user: User, kind: str, *, related: models.Model | None = None, data: dict[str, object] | None = None,
         **context: str) -> None:
    """Write the notification in the caller's transaction; it is pushed after commit."""
    zh_title, zh_body, en_title, en_body = _TEXTS[kind]
    english = user.preferred_language == "en"
    title, body = (en_title, en_body) if english else (zh_title, zh_body)
    notify(user, kind=kind, title=title, body=body.format(**context).strip(), data=data or {}, related=related)

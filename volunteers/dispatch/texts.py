"""What people are told about tasks, by push and SMS, in Simplified Chinese and English.

SMS carry the task's title, the grid's name, a distance and the reply code — never an
address or a resident's name (research R3.6); people who accept see the place in the app or
hear it from the grid worker. Registered with notifications.templates when the app is ready.
"""

from __future__ import annotations

from notifications.templates import register_template

# Replies to SMS answers (the reply router sends them through its "sms.text" template).
SMS_REPLIES: dict[str, tuple[str, str]] = {
    "accepted": ("【邻里】已确认：任务“{task}”由您承担，请尽快前往{area}。谢谢！",
                 'Linli: confirmed, "{task}" is yours. Please head to {area}. Thank you!'),
    "late": ("【邻里】谢谢您！任务“{task}”已满员，这次不需要您了。",
             'Linli: thank you! "{task}" is already fully staffed; you are not needed this time.'),
    "declined": ("【邻里】好的，已记录。谢谢！", "Linli: noted, thank you."),
    "expired": ("【邻里】任务“{task}”的答复时间已过，谢谢。", 'Linli: the time to answer "{task}" has passed. Thank you.'),
    "withdrawn": ("【邻里】任务“{task}”已不需要人手，无需答复。谢谢！", 'Linli: "{task}" no longer needs people; no answer needed. Thank you.'),
    "already": ("【邻里】您已答复过任务“{task}”。", 'Linli: you already answered "{task}".'),
    "too_many": ("【邻里】您手上的任务已达上限，无法再接“{task}”。", 'Linli: you already hold as many tasks as you allow; cannot take "{task}".'),
}


def sms_reply(kind: str, language: str, **context: str) -> str:
    zh, en = SMS_REPLIES[kind]
    return (en if language == "en" else zh).format(**context)


def register_task_templates() -> None:
    register_template(
        "task.offer.sms",
        zh="【邻里】{area}需要{headcount}人：{task}，距您约{distance}。{minutes}分钟内回复“是 {code}”接受，“否 {code}”拒绝。",
        en="Linli: {area} needs {headcount}: {task}, about {distance} from you. Reply Y {code} to accept or N {code} to decline within {minutes} min.",
        max_segments=3,
    )
    register_template("task.offer.title", zh="新任务：{task}", en="New task: {task}", max_segments=1)
    register_template(
        "task.offer",
        zh="{area}需要{headcount}人：{task}。距您约{distance}，请在{minutes}分钟内答复。",
        en="{area} needs {headcount}: {task}. About {distance} from you; please answer within {minutes} min.",
    )
    register_template("task.team_offer.title", zh="队伍任务：{task}", en="Team task: {task}", max_segments=1)
    register_template(
        "task.team_offer",
        zh="{team}：{area}的任务“{task}”需要{headcount}人，请在{minutes}分钟内答复可派出多少人。",
        en="{team}: \"{task}\" in {area} needs {headcount}. Within {minutes} min, answer how many people you can send.",
    )
    register_template("task.offer.withdrawn.title", zh="任务已不需要人手", en="Task no longer needs people", max_segments=1)
    register_template(
        "task.offer.withdrawn",
        zh="任务“{task}”{why}，无需再答复。谢谢您！",
        en='"{task}" {why}; no answer needed. Thank you!',
    )
    register_template(
        "task.offer.withdrawn.sms",
        zh="【邻里】任务“{task}”{why}，无需再答复。谢谢您！",
        en='Linli: "{task}" {why}; no answer needed. Thank you!',
        max_segments=2,
    )
    register_template("task.assignment.ended.title", zh="任务变动：{task}", en="Task changed: {task}", max_segments=1)
    register_template("task.assignment.ended", zh="{why}", en="{why}")
    register_template(
        "task.assignment.ended.sms", zh="【邻里】任务“{task}”：{why}", en='Linli: "{task}": {why}', max_segments=2,
    )
    register_template("task.assignment.added.title", zh="新任务：{task}", en="New task: {task}", max_segments=1)
    register_template(
        "task.assignment.added",
        zh="工作人员已安排您参加“{task}”（{area}），请尽快前往。",
        en='Staff have put you on "{task}" ({area}). Please head there soon.',
    )
    register_template(
        "task.assignment.added.sms",
        zh="【邻里】工作人员已安排您参加“{task}”（{area}），请尽快前往。",
        en='Linli: staff have put you on "{task}" ({area}). Please head there soon.',
        max_segments=2,
    )
    register_template("task.unstaffed.title", zh="任务无人可派：{task}", en="Nobody found for: {task}", max_segments=1)
    register_template(
        "task.unstaffed",
        zh="{area}的任务“{task}”已向{offers}人派单，仍缺{missing}人，范围已扩至{radius}。请人工安排。",
        en='"{task}" in {area} was offered to {offers} people and still needs {missing}; searched up to {radius}. Please arrange by hand.',
    )


WITHDRAWN_WHY = {
    "STAFFED": ("已满员", "is fully staffed"),
    "CANCELLED": ("已取消", "was cancelled"),
    "CLOSED": ("已结束", "is over"),
}
ENDED_WHY = {
    "CANCELLED": ("任务已取消，您无需前往。谢谢！", "The task was cancelled; you need not go. Thank you!"),
    "REMOVED": ("工作人员已调整人员安排，您无需前往。谢谢！", "Staff changed the team; you need not go. Thank you!"),
    "RELEASED": ("任务已结束，谢谢您的参与！", "The task is over. Thank you for your help!"),
}


def pick(pair: tuple[str, str], language: str | None) -> str:
    return pair[1] if (language or "").startswith("en") else pair[0]


def distance_text(metres: float | None, language: str | None) -> str:
    if metres is None:
        return "附近" if not (language or "").startswith("en") else "nearby"
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f}米" if not (language or "").startswith("en") else f"{round(metres / 10) * 10:.0f} m"
    km = f"{metres / 1000:.1f}"
    return f"{km}公里" if not (language or "").startswith("en") else f"{km} km"

"""The notifications app's own SMS texts (registered when the app is ready)."""

from .templates import register_template


def register_builtin_templates() -> None:
    register_template("sms.text", zh="{text}", en="{text}", max_segments=5)
    register_template(
        "sms.help",
        zh="【邻里】社区应急互助平台。回复 是/否（可加编号）答复通知；回复 退订 停止接收短信，回复 订阅 恢复。",
        en="Linli community emergency service. Reply Y or N (with the code, if given) to answer. Reply STOP to stop texts, START to resume.",
    )
    register_template(
        "sms.help.pending",
        zh="【邻里】您有待回复的消息：回复1表示是/平安，回复2表示否/需要帮助{codes}。回复 退订 停止接收短信。",
        en="Linli: you have a message to answer. Reply 1 for yes / safe, 2 for no / need help{codes}. Reply STOP to stop texts.",
    )
    register_template(
        "sms.stop",
        zh="【邻里】您已退订本平台短信，将不再收到任何短信通知（包括应急通知）。如需恢复，请回复“订阅”。",
        en="Linli: you are unsubscribed and will get no more texts, including emergency alerts. Reply START to resume.",
    )
    register_template(
        "sms.start",
        zh="【邻里】您已恢复接收短信。回复 退订 可随时停止。",
        en="Linli: you will receive texts again. Reply STOP to stop.",
    )
    register_template(
        "sms.reply.which",
        zh="【邻里】您有多项待回复，编号：{codes}。请回复“是 编号”或“否 编号”。",
        en="Linli: you have several open requests (codes: {codes}). Reply Y or N followed by the code.",
        keep=("codes",),
    )
    register_template(
        "sms.reply.unknown_code",
        zh="【邻里】未找到该编号。您待回复的编号：{codes}。",
        en="Linli: code not found. Your open codes: {codes}.",
        keep=("codes",),
    )
    register_template(
        "sms.reply.nothing_pending",
        zh="【邻里】目前没有需要您回复的事项。回复 帮助 了解更多。",
        en="Linli: nothing is waiting for your reply. Text HELP for help.",
    )
    register_template(
        "sms.reply.unrecognised",
        zh="【邻里】没看懂您的回复。请回复 1（是）或 2（否），可加编号 {code}。",
        en="Linli: sorry, we did not understand. Reply 1 (yes) or 2 (no), optionally with code {code}.",
    )
    register_template(
        "sms.reply.already_answered",
        zh="【邻里】此事项已答复，谢谢。",
        en="Linli: this was already answered. Thank you.",
    )
    register_template("sms.reply.received", zh="【邻里】已收到您的回复，谢谢。", en="Linli: reply received. Thank you.")
    register_template(
        "sms.reply.closed",
        zh="【邻里】该编号的事项已结束或已过答复时间，无需再回复，谢谢。",
        en="Linli: that request has ended or its time to answer has passed; no reply is needed. Thank you.",
    )
    register_template(
        "login.code",
        zh="【邻里】您的登录验证码是 {code}，{minutes}分钟内有效。请勿告诉他人。",
        en="Linli login code: {code}. Valid for {minutes} minutes. Do not share it.",
        max_segments=1,
    )
    register_template("notification.default.title", zh="邻里通知", en="Linli", max_segments=1)

"""Resident-facing texts of modes, alerts, safety checks and mobilisation (SMS and push),
Simplified Chinese and English. Drill messages get the drill marker from the renderer."""

from notifications.templates import register_template


def register_emergency_templates() -> None:
    # alerts: push (title + body) and SMS; updates and cancellations say so
    register_template("emergency.alert.push.title", zh="{prefix}{headline}", en="{prefix}{headline}", max_segments=2)
    register_template("emergency.alert.push", zh="{body}", en="{body}", max_segments=10)
    register_template(
        "emergency.alert.sms", zh="【邻里预警】{prefix}{headline}。{instruction}",
        en="Linli alert: {prefix}{headline}. {instruction}", max_segments=3,
    )
    # safety check: the question, and the answers to SMS replies
    register_template("emergency.safety.push.title", zh="报平安：{title}", en="Are you safe? {title}", max_segments=2)
    register_template(
        "emergency.safety.push", zh="{area}正在进行报平安，请在App中告诉我们您是否平安，需要帮助请选择“需要帮助”。",
        en="A safety check is under way in {area}. Tell us in the app whether you are safe or need help.",
        max_segments=5,
    )
    register_template(
        "emergency.safety.sms", zh="【邻里】{title}：您是否平安？回复1 平安，回复2 需要帮助（编号{code}）。",
        en="Linli {title}: are you safe? Reply 1 if safe, 2 if you need help (code {code}).", max_segments=2,
    )
    register_template("emergency.safety.reply.safe", zh="已记录您平安，谢谢。如需帮助请再回复2。",
                      en="Recorded that you are safe. Thank you. Reply 2 if you need help.", max_segments=1)
    register_template("emergency.safety.reply.help", zh="已收到您需要帮助，我们正在安排人员联系您。",
                      en="We know you need help and are sending someone to you.", max_segments=1)
    # mobilisation of volunteers and Party members
    register_template("emergency.mobilise.push.title", zh="{level}：{area}", en="{level_en}: {area}", max_segments=2)
    register_template("emergency.mobilise.push", zh="{area}进入{mode}状态。{message}", en="{area} is now in {mode_en} mode. {message}",
                      max_segments=5)
    register_template(
        "emergency.mobilise.standby.sms", zh="【邻里】{area}进入{mode}状态，请保持通讯畅通，随时待命。{message}",
        en="Linli: {area} is in {mode_en} mode. Please stand by and keep your phone on. {message}", max_segments=2,
    )
    register_template(
        "emergency.mobilise.callin.sms", zh="【邻里】{area}进入{mode}状态，请求您集结支援。能来回复1，不能来回复2（编号{code}）。{message}",
        en="Linli: {area} is in {mode_en} mode and needs you. Reply 1 if you can come, 2 if not (code {code}). {message}",
        max_segments=3,
    )
    register_template("emergency.mobilise.reply.yes", zh="谢谢！已记录您可以参加，请留意任务派单。",
                      en="Thank you! You are marked available; watch for task offers.", max_segments=1)
    register_template("emergency.mobilise.reply.no", zh="好的，已记录。注意安全。", en="Noted. Stay safe.", max_segments=1)
    # warnings that come in: a proposal to the commanders, or the switch a plan made by itself
    register_template("emergency.warning.proposal.title", zh="外部预警：{headline}", en="Incoming warning: {headline}",
                      max_segments=2)
    register_template(
        "emergency.warning.proposal",
        zh="{event}（{severity}）覆盖{area}。是否将{area}切换为{mode}状态并启动{plan}？请在App中决定。",
        en="{event} ({severity_en}) covers {area}. Switch {area} to {mode_en} and run {plan}? Decide in the app.",
        max_segments=5,
    )
    register_template("emergency.warning.switched.title", zh="已自动切换：{area}", en="Switched: {area}", max_segments=2)
    register_template(
        "emergency.warning.switched",
        zh="{event}（{severity}）覆盖{area}，已按预案自动切换为{mode}状态并启动{plan}。",
        en="{event} ({severity_en}) covers {area}; as its plan says, {area} was switched to {mode_en} and {plan} started.",
        max_segments=5,
    )

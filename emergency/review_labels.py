"""Every word of the after-action report, in Chinese and English (the viewer's language).

    labels("zh-hans") -> Labels      # L.t("tasks"), L.mode("EMERGENCY"), L.purpose("alert"), ...

The report's data keep the codes the API returns (EMERGENCY, Severe, safety_check); the HTML,
the PDF and the spreadsheet show these words instead, so a commander never reads an enum.
"""

from __future__ import annotations

from dataclasses import dataclass

from community.models import AreaKind, Mode
from notifications.templates import normalize_language
from volunteers.models import TaskPriority, TaskSource, TaskStatus

from .models import CapMsgType, CapSeverity, CapUrgency, WindDownCause

# (Chinese, English)
WORDS: dict[str, tuple[str, str]] = {
    "title": ("复盘报告", "After-action report"),
    "drill": ("演练", "DRILL"),
    "only_drills": ("仅包含演练数据", "drill data only"),
    "no_drills": ("不含演练数据", "real data only (drills excluded)"),
    "generated": ("生成于", "Generated"),
    "exported_by": ("导出人", "Exported by"),
    "period": ("时段", "Period"),
    "none": ("无", "None"),
    "summary": ("概况", "Summary"),
    "timeline": ("时间线", "Timeline"),
    "time": ("时间", "Time"),
    "kind": ("类型", "Kind"),
    "area": ("区域", "Area"),
    "content": ("内容", "What"),
    "detail": ("说明", "Detail"),
    "breakdown": ("分区域情况", "By area"),
    "breakdown_note": ("统计到网格；报平安一行即一位居民在一次报平安中的答复。",
                       "Down to each grid; a safety-check row is one resident in one check."),
    "total": ("合计", "Total"),
    "residents": ("居民", "Residents"),
    "asked": ("已询问", "Asked"),
    "reached": ("已触达", "Reached"),
    "reached_note": ("已答复、短信已送达或推送已打开", "answered, the SMS delivered, or the push opened"),
    "safe": ("平安", "Safe"),
    "need_help": ("需要帮助", "Need help"),
    "silent": ("未答复", "Silent"),
    "unreachable": ("无法联系", "Unreachable"),
    "unreachable_note": ("无可用设备、无可用号码或短信未送达", "no live device, no usable number, or the SMS failed"),
    "vulnerable_accounted": ("重点人员已确认", "Vulnerable accounted for"),
    "welfare_done": ("上门探访完成", "Welfare visits done"),
    "tasks": ("任务", "Tasks"),
    "tasks_created": ("创建", "Created"),
    "tasks_staffed": ("派满", "Staffed"),
    "tasks_done": ("完成", "Done"),
    "tasks_open": ("未结束", "Open"),
    "tasks_unstaffed": ("无人可派", "Unstaffed"),
    "tasks_cancelled": ("取消", "Cancelled"),
    "time_to_staff": ("派满用时（中位）", "Time to staff (median)"),
    "time_to_staff_p90": ("派满用时（P90）", "Time to staff (P90)"),
    "help_to_site": ("求助到首位志愿者到场", "Help request to first volunteer on site"),
    "help_p50_short": ("求助→到场 中位", "Help → on site, median"),
    "help_p90_short": ("求助→到场 P90", "Help → on site, P90"),
    "p50": ("中位", "median"),
    "p90": ("P90", "P90"),
    "by_source": ("来源", "By source"),
    "safety_checks": ("报平安", "Safety checks"),
    "accounted": ("已确认", "Accounted for"),
    "to90": ("90% 用时", "Time to 90%"),
    "to100": ("100% 用时", "Time to 100%"),
    "welfare_tasks": ("上门探访任务", "Welfare visits"),
    "people": ("人员动员", "People mobilised"),
    "volunteers_on_tasks": ("参与任务的志愿者", "Volunteers on tasks"),
    "party_on_tasks": ("参与任务的党员", "Party members on tasks"),
    "volunteers_called": ("通知待命/集结的志愿者", "Volunteers called"),
    "party_called": ("通知的党员", "Party members called"),
    "answered_yes": ("答复可参加", "Answered available"),
    "answered_no": ("答复不能参加", "Answered unavailable"),
    "messages": ("消息", "Messages"),
    "messages_note": ("截至报告生成时；“待发送”为此刻仍在队列中的短信。",
                      "As of the time of this report; \"queued now\" is what is still waiting to be sent."),
    "lane": ("通道", "Lane"),
    "channel": ("渠道", "Channel"),
    "purpose": ("用途", "Purpose"),
    "written": ("写入", "Written"),
    "queued_now": ("待发送", "Queued now"),
    "sent": ("已发出", "Handed over"),
    "delivered": ("已送达", "Delivered"),
    "failed": ("失败", "Failed"),
    "refused": ("拒发", "Refused"),
    "superseded": ("已作废未发", "Superseded (not sent)"),
    "sms": ("短信", "SMS"),
    "push": ("App 推送", "App push"),
    "voice": ("语音电话", "Voice call"),
    "escalation": ("逐级提醒", "Escalation"),
    "rung_push": ("第1级 推送：{n}人", "Rung 1, push: {n} residents"),
    "rung_sms": ("第2级 短信：{n}人", "Rung 2, SMS: {n} residents"),
    "rung_voice": ("第3级 语音电话：{n}人", "Rung 3, voice call: {n} residents"),
    "open_work": ("报告时仍未完成的工作", "Work still open at report time"),
    "open_tasks": ("未结束的任务", "Open tasks"),
    "title_col": ("任务", "Task"),
    "priority": ("优先级", "Priority"),
    "status": ("状态", "Status"),
    "people_on": ("到岗/需要", "People on / needed"),
    "people_to_help": ("求助人数", "People to help"),
    "created": ("创建时间", "Created"),
    "silent_vulnerable": ("仍未答复的重点关注居民", "Vulnerable residents still silent"),
    "name": ("姓名", "Name"),
    "people_count": ("人数", "People"),
    "task_count": ("任务数", "Tasks"),
    "grid": ("网格", "Grid"),
    "check": ("报平安", "Safety check"),
    "welfare_visit": ("上门探访", "Welfare visit"),
    "no_visit": ("尚无", "none yet"),
    "more_rows": ("另有 {n} 条未列出（见表格下载）", "{n} more not listed (see the spreadsheet)"),
    "chart_curve_x": ("开始后分钟数", "Minutes since the check started"),
    "chart_curve_y": ("已确认比例", "Share accounted for"),
    "chart_areas_x": ("居民人数", "Residents"),
    "chart_messages_x": ("短信条数", "SMS"),
    "switch": ("模式切换", "Mode switch"),
    "alert": ("预警", "Alert"),
    "safety_check": ("报平安", "Safety check"),
    "wind_down": ("收尾", "Wind-down"),
    "warning": ("外部预警", "Incoming warning"),
    "facility": ("设施", "Facility"),
    "wind_down_detail": ("取消任务 {tasks_cancelled}，撤回派单 {offers_withdrawn}，作废短信 {messages_superseded}，"
                         "解除预警 {alerts_cancelled}，预警到期 {alerts_expired}，结束报平安 {safety_checks_closed}；"
                         "仍在进行 {kept}",
                         "tasks cancelled {tasks_cancelled}, offers withdrawn {offers_withdrawn}, SMS superseded "
                         "{messages_superseded}, alerts cancelled {alerts_cancelled}, expired {alerts_expired}, checks "
                         "closed {safety_checks_closed}; still running {kept}"),
    "hours_minutes": ("{h}小时{m}分", "{h} h {m} min"),
    "minutes_seconds": ("{m}分{s}秒", "{m} min {s} s"),
}

MODE_EN = {Mode.NORMAL: "Normal", Mode.STANDBY: "Standby", Mode.EMERGENCY: "Emergency", Mode.RECOVERY: "Recovery"}
LANES: dict[str, tuple[str, str]] = {
    "login": ("登录验证码", "Login codes"),
    "life_safety": ("生命安全", "Life safety"),
    "standard": ("派单、动员及其他", "Offers, call-ins and other"),
    "courtesy": ("回复与通知", "Replies and notices"),
}
PURPOSES: dict[str, tuple[str, str]] = {
    "alert": ("预警", "Alerts"),
    "safety_check": ("报平安询问", "Safety questions"),
    "mobilisation": ("待命/集结", "Stand-by and call-ins"),
    "task_offer": ("任务派单", "Task offers"),
    "task_offer_withdrawn": ("派单撤回", "Offers withdrawn"),
    "task_assignment_ended": ("任务变动", "Task changes"),
    "task_assignment_added": ("指派任务", "Put on a task"),
    "sms_reply": ("短信回复", "Replies"),
    "login_code": ("登录验证码", "Login codes"),
}
SEVERITY_EN = {s.value: s.value for s in CapSeverity}


@dataclass(frozen=True)
class Labels:
    language: str

    @property
    def english(self) -> bool:
        return self.language == "en"

    def _pick(self, pair: tuple[str, str]) -> str:
        return pair[1] if self.english else pair[0]

    def t(self, key: str, **values: object) -> str:
        text = self._pick(WORDS[key])
        return text.format(**values) if values else text

    def __getitem__(self, key: str) -> str:  # templates: {{ L.tasks }}
        return self.t(key)

    def mode(self, code: str) -> str:
        return MODE_EN.get(Mode(code), code) if self.english else Mode(code).label

    def msg_type(self, code: str) -> str:
        return code if self.english else CapMsgType(code).label

    def severity(self, code: str) -> str:
        return code if self.english else CapSeverity(code).label

    def urgency(self, code: str) -> str:
        return code if self.english else CapUrgency(code).label

    def purpose(self, code: str) -> str:
        return self._pick(PURPOSES.get(code, (code, code.replace("_", " ").capitalize())))

    def lane(self, code: str) -> str:
        return self._pick(LANES.get(code, (code, code)))

    def task_status(self, code: str) -> str:
        return code.replace("_", " ").capitalize() if self.english else TaskStatus(code).label

    def priority(self, code: str) -> str:
        return code.replace("_", " ").capitalize() if self.english else TaskPriority(code).label

    def source(self, code: str) -> str:
        return code.replace("_", " ").capitalize() if self.english else TaskSource(code).label

    def cause(self, code: str) -> str:
        return code.replace("_", " ").capitalize() if self.english else WindDownCause(code).label

    def area_kind(self, code: str) -> str:
        return code.capitalize() if self.english else AreaKind(code).label

    def listing(self, head: str, items: list[str]) -> str:
        """"来源：甲 1，乙 2" / "By source: A 1, B 2"."""
        body = (", " if self.english else "，").join(items) or self.t("none")
        return f"{head}: {body}" if self.english else f"{head}：{body}"

    def semicolon(self) -> str:
        return "; " if self.english else "；"

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        minutes, secs = divmod(int(round(seconds)), 60)
        hours, minutes = divmod(minutes, 60)
        return self.t("hours_minutes", h=hours, m=minutes) if hours else self.t("minutes_seconds", m=minutes, s=secs)


def labels(language: str | None) -> Labels:
    return Labels("en" if normalize_language(language) == "en" else "zh-hans")

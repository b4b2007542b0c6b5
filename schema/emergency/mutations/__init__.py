"""Emergency mutations: response plans, the mode switch, alerts, safety checks and answers,
mobilisation. Each resolves IDs, checks permission, calls one service and shapes the payload."""

import graphene

from .alerts import CancelAlert, IssueAlert, PreviewAlert, UpdateAlert
from .close_tasks import CloseTasks
from .mobilisation import RespondToMobilisation
from .plans import SaveResponsePlan
from .safety_checks import AnswerSafetyCheck, CloseSafetyCheck, StartSafetyCheck
from .switch_area_mode import SwitchAreaMode


class EmergencyMutations(graphene.ObjectType):
    switch_area_mode = SwitchAreaMode.Field()
    save_response_plan = SaveResponsePlan.Field()
    issue_alert = IssueAlert.Field()
    preview_alert = PreviewAlert.Field()
    update_alert = UpdateAlert.Field()
    cancel_alert = CancelAlert.Field()
    start_safety_check = StartSafetyCheck.Field()
    close_safety_check = CloseSafetyCheck.Field()
    answer_safety_check = AnswerSafetyCheck.Field()
    respond_to_mobilisation = RespondToMobilisation.Field()
    close_tasks = CloseTasks.Field()

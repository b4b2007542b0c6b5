"""Emergency models: plans and their runs, alerts, safety checks, mobilisation.

Their tables keep the names they had when they lived in the community app (db_table):
moving the code did not move a row."""

from .alerts import (
    Alert,
    CapCategory,
    CapCertainty,
    CapMsgType,
    CapResponseType,
    CapSeverity,
    CapUrgency,
)
from .drills import Drill, WindDown, WindDownCause
from .fanout import FanoutState, FanoutStatus
from .plans import (
    ImmutableVersionError,
    Mobilisation,
    MobilisationKind,
    MobilisationLevel,
    MobilisationResponse,
    PlanAction,
    PlanRun,
    PlanRunStatus,
    PlanStep,
    PlanStepStatus,
    ResponsePlan,
)
from .safety import (
    AnswerChannel,
    SafetyAnswer,
    SafetyCheck,
    SafetyCheckStatus,
    SafetyState,
    SafetyStatus,
    UnreachableReason,
)
from .warnings import (
    CapStatus,
    IncomingWarning,
    ProposalStatus,
    Sensor,
    SensorKind,
    SensorReading,
    WarningProposal,
    WarningSource,
    WarningSourceKind,
    WebhookNonce,
)

__all__ = [
    "CapStatus",
    "IncomingWarning",
    "ProposalStatus",
    "Sensor",
    "SensorKind",
    "SensorReading",
    "WarningProposal",
    "WarningSource",
    "WarningSourceKind",
    "WebhookNonce",
    "Alert",
    "AnswerChannel",
    "CapCategory",
    "CapCertainty",
    "CapMsgType",
    "CapResponseType",
    "CapSeverity",
    "CapUrgency",
    "Drill",
    "FanoutState",
    "FanoutStatus",
    "ImmutableVersionError",
    "Mobilisation",
    "MobilisationKind",
    "MobilisationLevel",
    "MobilisationResponse",
    "PlanAction",
    "PlanRun",
    "PlanRunStatus",
    "PlanStep",
    "PlanStepStatus",
    "ResponsePlan",
    "SafetyAnswer",
    "SafetyCheck",
    "SafetyCheckStatus",
    "SafetyState",
    "SafetyStatus",
    "UnreachableReason",
    "WindDown",
    "WindDownCause",
]

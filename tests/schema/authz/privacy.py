"""The matrix for the access log (issue 21)."""

from __future__ import annotations

from graphql_relay import to_global_id

from .matrix import ABSENT, FORBID, OWN, UNAUTH, Entry, done, payload, shows


def _session_id(w) -> str:
    return to_global_id("Session", w.session.pk)


def _has_session(data, w) -> None:
    assert _session_id(w) in [s["id"] for s in data], data


CONSENT = {"kind": "CONTACT", "granted": True, "textVersion": "2026-12"}

ENTRIES = [
    Entry("Query.accessLog", "privacy/AccessLog",
          allowed={"admin": shows("authz-read-甲", personal=False)},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker": FORBID,
                   "commander": FORBID, "admin_other": ABSENT},
          secrets=("access_log",)),
    Entry("Query.myRecordAccessLog", "privacy/MyRecordAccessLog",
          allowed={"resident": shows("authz-read-甲", personal=False)},
          refused={"anonymous": UNAUTH, "spouse": ABSENT, "other_resident": ABSENT, "worker": ABSENT},
          secrets=("access_log",)),
    Entry("Mutation.recordMyConsent", "privacy/RecordMyConsent", lambda w: CONSENT,
          allowed={"resident": done("consent")},
          refused={"anonymous": UNAUTH, "stranger": payload("NOT_FOUND"), "worker": payload("NOT_FOUND")}),
    Entry("Mutation.recordResidentConsent", "privacy/RecordResidentConsent",
          lambda w: {**CONSENT, "residentId": w.gid("resident_row"), "channel": "PAPER"},
          allowed={"worker": done("consent"), "admin": done("consent")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_grid": FORBID,
                   "worker_other_community": FORBID, "admin_other": FORBID},
          secrets=("resident",)),
    # The links carry the caller's own data only (tests/privacy/test_my_data.py opens them).
    Entry("Mutation.exportMyData", "privacy/ExportMyData",
          allowed={"resident": done("jsonUrl"), "worker": done("xlsxUrl")},
          refused={"anonymous": UNAUTH, "spouse": OWN, "other_resident": OWN, "admin_other": OWN},
          keeps=lambda w: [w.resident_row], secrets=("resident",)),
    Entry("Mutation.requestCorrection", "privacy/RequestCorrection", lambda w: {"field": "PHONE", "value": "+8613900000077"},
          allowed={"resident": done("request"), "volunteer": done("request")},
          refused={"anonymous": UNAUTH, "spouse": OWN}, keeps=lambda w: [w.rights_request]),
    Entry("Mutation.requestErasure", "privacy/RequestErasure",
          allowed={"resident": done("request"), "worker": done("request")},
          refused={"anonymous": UNAUTH, "spouse": OWN, "worker_other_community": OWN}, keeps=lambda w: [w.rights_request, w.resident_row]),
    Entry("Mutation.answerRightsRequest", "privacy/AnswerRightsRequest",
          lambda w: {"id": w.gid("rights_request"), "done": False, "answer": "需要本人到社区核对"},
          allowed={"worker": done("request"), "admin": done("request")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_grid": FORBID,
                   "worker_other_community": FORBID, "admin_other": FORBID},
          secrets=("rights_request",)),
    Entry("Query.myRightsRequests", "privacy/MyRightsRequests",
          allowed={"resident": shows("rights_request")},
          refused={"anonymous": UNAUTH, "spouse": ABSENT, "worker": ABSENT}, secrets=("rights_request",)),
    Entry("Query.rightsRequests", "privacy/RightsRequests",
          allowed={"worker": shows("rights_request"), "admin": shows("rights_request")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_grid": ABSENT,
                   "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("rights_request",)),
    Entry("Query.mySessions", "privacy/MySessions",
          allowed={"worker": lambda data, w: _has_session(data, w)},
          refused={"anonymous": UNAUTH, "resident": ABSENT, "admin": ABSENT, "worker_other_grid": ABSENT},
          secrets=("session",)),
    Entry("Mutation.revokeSession", "privacy/RevokeSession", lambda w: {"id": _session_id(w)},
          allowed={"worker": done("revoked")},
          refused={"anonymous": UNAUTH, "admin": payload("NOT_FOUND"), "resident": payload("NOT_FOUND"),
                   "worker_other_grid": payload("NOT_FOUND")}),
]

PUBLIC = {"Query.consentText": "the consent text in force and its version, the same for everyone"}

"""The matrix for the access log (issue 21)."""

from __future__ import annotations

from .matrix import ABSENT, FORBID, UNAUTH, Entry, shows

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
]

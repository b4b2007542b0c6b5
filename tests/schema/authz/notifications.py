"""The matrix for notifications, and the fields that are public on purpose."""

from __future__ import annotations

from .matrix import ABSENT, UNAUTH, Entry, done, payload, sees

ENTRIES = [
    Entry("Query.notifications", "notifications/NotificationHistory",
          allowed={"resident": sees("notification")},
          refused={"anonymous": UNAUTH, "spouse": ABSENT, "neighbour": ABSENT, "worker": ABSENT},
          secrets=("notification",)),
    Entry("Mutation.markNotificationsRead", "notifications/MarkNotificationsRead",
          lambda w: {"ids": [w.gid("notification")]},
          allowed={"resident": done("updatedCount")},
          refused={"anonymous": UNAUTH, "spouse": payload("NOT_FOUND"), "worker": payload("NOT_FOUND")},
          secrets=("notification",)),
    Entry("Mutation.acknowledgeNotification", "notifications/AcknowledgeNotification",
          lambda w: {"notificationId": w.gid("notification")},
          allowed={"resident": done("notification")},
          refused={"anonymous": UNAUTH, "spouse": payload("NOT_FOUND"), "worker": payload("NOT_FOUND")},
          secrets=("notification",)),
    Entry("Query.myDevices", "notifications/MyDevices",
          allowed={"resident": sees("device")},
          refused={"anonymous": UNAUTH, "spouse": ABSENT, "neighbour": ABSENT, "worker": ABSENT},
          secrets=("device",)),
    Entry("Mutation.registerDevice", "notifications/RegisterDevice",
          lambda w: {"platform": "ANDROID", "provider": "JPUSH", "token": "1a0018970a2b3c4d5e6", "appVersion": "2.0.0"},
          allowed={"resident": done("device"), "worker": done("device")},
          refused={"anonymous": UNAUTH}),
    Entry("Mutation.unregisterDevice", "notifications/UnregisterDevice",
          lambda w: {"token": "ab" * 32},
          allowed={"resident": done("removed")},
          refused={"anonymous": UNAUTH, "spouse": payload("NOT_FOUND"), "worker": payload("NOT_FOUND")}),
]

# Fields every signed-in person may call on their own behalf, naming nobody else's records (so no
# signed-in caller is refused); each with the reason and where its cross-person case is tested.
SELF_SERVICE = {
    "Mutation.registerDevice": "registers the caller's own phone; a token registered by someone else moves to "
                               "the caller and the old owner's queued pushes are never sent to it "
                               "(tests/notifications/test_devices.py)",
}

# Root fields anyone may call, each with the reason; everything else needs an entry.
PUBLIC = {
    "Mutation.tokenAuth": "staff login: the username and password are the credential",
    "Mutation.refreshToken": "the refresh token is the credential; it only renews its owner's access token",
    "Mutation.revokeToken": "the refresh token is the credential; revoking ends only that token's own session",
    "Mutation.requestLoginCode": "phone login: same answer for every number, rate-limited per phone and address",
    "Mutation.verifyLoginCode": "phone login: the texted code is the credential (attempts are counted)",
    "Query.skills": "the managed list of skill names, the same for everyone (shown on the sign-up form)",
}

"""The authorization matrix over the whole GraphQL schema (issue 8, research R1.7 / AT-06).

The table is split by app (community, emergency, notifications, volunteers, tasks, nodes,
subscriptions); tests/schema/test_authorization_matrix.py runs it. A root field without an
entry (or a reason in PUBLIC) fails the suite by name.
"""

from . import community, emergency, nodes, notifications, tasks, volunteers
from .notifications import PUBLIC

ENTRIES = community.ENTRIES + emergency.ENTRIES + notifications.ENTRIES + volunteers.ENTRIES + tasks.ENTRIES + nodes.ENTRIES

__all__ = ["ENTRIES", "PUBLIC"]

"""The authorization matrix over the whole GraphQL schema (issue 8, research R1.7 / AT-06).

The table is split by app (community, emergency, notifications, volunteers, tasks, resources,
privacy, nodes, subscriptions); tests/schema/test_authorization_matrix.py runs it. A root field without an
entry (or a reason in notifications.PUBLIC) fails the suite by name.

Adding a field: add an Entry next to its neighbours, aimed at side A of the world (world.py):
the document (an operation of mobile_api_docs/operations, or inline text), the variables,
`allowed` (caller -> a check that they got the real thing) and `refused` (caller -> the form
of the refusal: UNAUTH, FORBID, NOTFOUND, payload(codes), NULL, EMPTY, ABSENT, MASKED, OWN),
and the `secrets` (keys of world.secrets) a refused caller must not see. Every field needs the
anonymous caller, at least one other refused caller (staff fields: staff of another grid or
community too) and one entitled caller.
"""

from . import community, emergency, nodes, notifications, privacy, resources, tasks, volunteers

ENTRIES = (community.ENTRIES + emergency.ENTRIES + notifications.ENTRIES + volunteers.ENTRIES + tasks.ENTRIES + nodes.ENTRIES
           + resources.ENTRIES + privacy.ENTRIES)
PUBLIC = {**notifications.PUBLIC, **resources.PUBLIC, **privacy.PUBLIC}

__all__ = ["ENTRIES", "PUBLIC"]

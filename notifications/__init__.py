"""Notifications: SMS (outbox, delivery, inbound replies), phone login, push.

Public API for other apps (see each module's docstring):
- notifications.templates: register_template(name, *, zh, en, max_segments=3), render(...)
- notifications.outbox: queue_sms(...), queue_sms_bulk(items) -> int
- notifications.inbound: Reply, register_reply_handler(purpose, handler)
- notifications.services: notify(...), notify_template(...), notify_many(...)
- notifications.consent: is_opted_out(phone), opted_out_phones(phones)
- notifications.ratelimit: take/acquire/hit token buckets shared by all workers
- notifications.realtime / events: publish_on_commit(groups, event), event types and groups
"""

"""Personal information under PIPL: who read what (access log), how long records are kept
(retention), consent, the data subject's rights (the export, privacy.my_data; erasure,
privacy.erasure) and encryption at rest (issue 21).

It sits just above core/ so that every app that serves personal data — notifications,
community, volunteers, emergency, and the API in schema/ — can record reads and register
what it keeps; it imports no app above it (models are referenced by id, not by import).
"""

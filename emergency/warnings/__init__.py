"""Warnings that come in (实时感知、精准研判、适时预警): CAP 1.2 from feeds and a signed webhook,
and sensors' readings, matched to areas and turned into proposals to commanders.

- cap_in.py     read and validate a CAP document (OASIS schema, then coordinates)
- ingest.py     ingest_cap: de-duplicate, follow references, match, propose
- matching.py   which areas a warning covers (geocode, polygon, circle; boundaries plug in)
- proposals.py  proposals, automatic switches by plan, decisions and their timing
- feeds.py      polling configured feeds with ETag / If-Modified-Since
- signing.py    HMAC-signed webhooks: timestamp window and nonces
- sensors.py    readings, thresholds, and the warnings they raise
- webhooks.py   the HTTP endpoints (urls.py)
- review.py     the after-action report's section on warnings
"""

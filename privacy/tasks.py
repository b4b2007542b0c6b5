from celery import shared_task

from .retention import apply_retention as _apply


@shared_task(name="privacy.tasks.apply_retention")  # type: ignore[untyped-decorator]  # celery ships no type information
def apply_retention() -> dict[str, int]:
    """Daily (CELERY_BEAT_SCHEDULE): delete or anonymise expired personal records."""
    return _apply()

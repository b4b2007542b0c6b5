"""A command that ends while the publishing thread still holds events exits quietly (make run's
demo load printed dozens of tracebacks: async_to_sync cannot start a loop after shutdown)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
django.setup()
from notifications.realtime import publish_soon
for i in range(200):
    publish_soon(f"area.{i}", {"type": "AREA_MODE_CHANGED", "areaId": i})
print("done")
"""


def test_events_still_queued_at_exit_are_dropped_without_tracebacks(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(LINLI_STATE_DIR=str(tmp_path), REALTIME_PUBLISH_IN_BACKGROUND="1")
    out = subprocess.run([sys.executable, "-X", "dev", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "done"
    assert "Traceback" not in out.stderr and "never awaited" not in out.stderr, out.stderr[-2000:]

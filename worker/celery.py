"""The Celery app, configured from Django settings (``CELERY_`` namespace).

Two queues: ``vision`` for detection and encoding (heavy; one task at a time per
process) and ``default`` for light work. Routes are explicit: a task not listed in
:data:`worker.routes.TASK_ROUTES` goes to ``default``.
"""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("fashion")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (
    Queue("vision", Exchange("vision", type="direct"), routing_key="vision"),
    Queue("default", Exchange("default", type="direct"), routing_key="default"),
)
app.conf.task_default_queue = "default"
app.conf.task_routes = "worker.routes.route_task"
app.conf.beat_schedule_filename = app.conf.beat_schedule_filename or "var/celerybeat-schedule"
# Tasks import models, so they load once Django is set up (Celery's Django fix-up).
app.autodiscover_tasks(["worker"], related_name="tasks")

from worker.schedule import BEAT_SCHEDULE  # noqa: E402

app.conf.beat_schedule = BEAT_SCHEDULE
import worker.signals  # noqa: E402, F401  (connects the life-cycle hooks)

"""Background work end to end: the database worker started by `mufakat serve`, the in-process
db_worker command, and the Redis queue (django_tasks_rq) when a Redis server is reachable."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command

from mufakat.core.models import Delivery
from mufakat.core.notifications.alerts import deliver_task

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("MUFAKAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def email_delivery(to: str) -> Delivery:
    return Delivery.objects.create(
        channel=Delivery.Channel.EMAIL,
        target=to,
        payload={"subject": "Cable fault near Batam", "body": "Check the inbox."},
    )


def test_db_worker_command_runs_a_queued_task() -> None:
    d = email_delivery("focal@sg.mufakat.invalid")
    result = deliver_task.enqueue(d.pk)
    d.refresh_from_db()
    assert d.status == Delivery.Status.PENDING  # queued, not run inline
    call_command("db_worker", "--batch", "--queue-name", "default", verbosity=0)
    d.refresh_from_db()
    assert d.status == Delivery.Status.SENT
    assert d.attempts == 1
    assert [m.to for m in mail.outbox] == [["focal@sg.mufakat.invalid"]]
    assert deliver_task.get_backend().get_result(result.id).return_value == "sent"


def test_serve_starts_the_task_worker(
    shared_db_env: dict[str, str], start_server: Any, wait_until: Any
) -> None:
    server = start_server(shared_db_env, worker=True)
    assert "task worker started" in server.output()
    d = email_delivery("analyst@my.mufakat.invalid")
    deliver_task.enqueue(d.pk)

    def sent() -> bool:
        d.refresh_from_db()
        return d.status == Delivery.Status.SENT

    wait_until(sent, 60, "the worker of `mufakat serve` to deliver the e-mail")
    # The server's mailer writes into its own data folder.
    files = list((Path(shared_db_env["MUFAKAT_DATA_DIR"]) / "mail").glob("*.log"))
    assert len(files) == 1
    assert "Cable fault near Batam" in files[0].read_text()


def redis_reachable() -> bool:
    u = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def test_redis_queue_runs_tasks(
    shared_db_env: dict[str, str], start_server: Any, wait_until: Any, cli: Any
) -> None:
    if not redis_reachable():
        pytest.skip(f"no Redis server at {REDIS_URL}; the database queue is tested above")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**shared_db_env, "REDIS_URL": REDIS_URL}
    server = start_server(env, worker=True)
    assert "task worker started" in server.output()
    d = email_delivery("viewer@id.mufakat.invalid")
    enqueue = cli(
        "manage",
        "shell",
        "-c",
        f"from mufakat.core.notifications.alerts import deliver_task; print(deliver_task.enqueue({d.pk}).id)",
        env=env,
    )
    assert enqueue.returncode == 0, enqueue.stderr
    job_id = enqueue.stdout.strip().splitlines()[-1]
    assert redis.Redis.from_url(REDIS_URL).exists(f"rq:job:{job_id}")

    def sent() -> bool:
        d.refresh_from_db()
        return d.status == Delivery.Status.SENT

    wait_until(sent, 60, "the RQ worker to deliver the e-mail")
    wait_until(lambda: f"Job OK ({job_id})" in server.output(), 10, "the RQ worker's log line")

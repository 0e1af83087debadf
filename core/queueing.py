"""Queue a task of a higher layer by its name, so lower layers never import it (the tasks
live in brokerage and billing). A broker outage is logged and answered with False, never
raised: what was to be queued waits in its outbox table (events, guest e-mails) or for the
daily job (settlement runs), whose relay queues it again once the broker is back."""

import logging

from celery import current_app
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args) -> bool:
    """Queue `task_name(*args)`; False when the broker did not take it."""
    try:
        # config.celery sets the project's app as the default, so this is it in every thread.
        current_app.tasks[task_name].delay(*args)
    except OperationalError:
        logger.warning("Broker unavailable; %s%r left for the relay", task_name, args)
        return False
    except Exception:
        logger.exception("Could not queue %s%r", task_name, args)
        return False
    return True


def enqueue_each(task_name: str, ids) -> int:
    """Queue `task_name(id)` for each id, stopping at the first the broker refuses (the
    rest would fail the same way); returns how many were queued."""
    queued = 0
    for pk in ids:
        if not enqueue(task_name, pk):
            break
        queued += 1
    return queued

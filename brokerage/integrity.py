"""The daily integrity check of settlement data (docs/integrity.md): document lines whose
project, package or charge was removed outside the platform are logged as an error for the
operators, and each network concerned has its secretariat told, once a day."""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from billing.integrity import document_lines_dangling_counts
from members.models import StaffRole, User

from .notifications import notify

logger = logging.getLogger(__name__)


def document_lines_integrity_check(*, today: datetime.date | None = None) -> dict[int, int]:
    """Count the dangling document lines per network; for each network with any, log an
    error and notify its secretariat (one notification per network and day, so a repeated
    run tells nobody twice). Returns {network id: dangling lines}; empty when sound."""
    today = today or timezone.localdate()
    found = {}
    for network_id, counts in document_lines_dangling_counts().items():
        total = sum(counts.values())
        found[network_id] = total
        logger.error(
            "Billing integrity: %d document lines of network %d point at missing rows %s; "
            "run `manage.py billing_check_integrity` for the list",
            total,
            network_id,
            counts,
        )
        with transaction.atomic():
            notify(
                recipients=User.objects.filter(
                    network_seats__network_id=network_id,
                    network_seats__role=StaffRole.SECRETARIAT,
                    is_active=True,
                ),
                event_key=f"billing-integrity:{network_id}:{today.isoformat()}",
                kind="billing_integrity",
                template="billing_integrity_staff",
                context={"total": total, **counts},
                link="/billing/runs/",
            )
    return found

"""Document lines' links to projects, packages and charges have no database constraint
(issue 13, point 12; docs/integrity.md): Django refuses to delete what a line points at, and
the check finds lines left dangling by SQL around the application (command and daily job)."""

import io
import logging

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import ProtectedError

from billing.integrity import document_lines_dangling, document_lines_dangling_counts
from billing.models import DocumentLine
from brokerage import tasks
from brokerage.models import Notification
from config.celery import app
from orders.models import MemberCharge
from tests.billing.books import Books, tokyo
from tests.factories import NetworkFactory, NetworkStaffFactory


def _closed_month(books: Books):
    """A closed month with one project: a package and a charge against its member."""
    member = books.company_user()
    project = books.project(
        lead=books.lead_user(),
        accepted_at=tokyo(2026, 10, 5, 12),
        packages=[{"member": member, "quantity": 4, "unit_price": 2_500, "charges": [700]}],
    )
    books.close()
    return project


def _raw_delete_charge(charge_id: int) -> None:
    """What a DBA's cleanup script might do: SQL around the application, no ORM."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM orders_membercharge WHERE id = %s", [charge_id])


def _run_command(*args) -> str:
    out = io.StringIO()
    call_command("billing_check_integrity", *args, stdout=out)
    return out.getvalue()


def test_a_sound_database_reports_nothing(books, secretariat_user):
    _closed_month(books)
    assert DocumentLine.objects.filter(charge__isnull=False).exists()
    assert document_lines_dangling() == []
    assert document_lines_dangling_counts() == {}
    assert _run_command("--show", "5").strip() == (
        "書類の明細: 参照先の案件・作業パッケージ・控除はすべて存在します。"
    )
    assert tasks.document_lines_check_integrity_task() == {}
    assert not Notification.objects.filter(kind="billing_integrity").exists()


def test_django_refuses_to_delete_a_charge_or_project_a_line_points_at(books):
    project = _closed_month(books)
    charge = MemberCharge.objects.get(package__project=project)
    with pytest.raises(ProtectedError):
        charge.delete()
    with pytest.raises(ProtectedError):
        project.delete()
    assert MemberCharge.objects.filter(pk=charge.pk).exists()


def test_a_line_whose_charge_was_deleted_by_sql_is_found_by_the_command(books):
    project = _closed_month(books)
    charge = MemberCharge.objects.get(package__project=project)
    line = DocumentLine.objects.get(charge_id=charge.pk)
    _raw_delete_charge(charge.pk)

    [found] = document_lines_dangling()
    assert (found.link, found.line_id, found.missing_id) == ("charge", line.pk, charge.pk)
    assert (found.document_number, found.network_id) == (line.document.number, books.network.pk)
    assert document_lines_dangling_counts() == {books.network.pk: {"charge": 1}}
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("billing_check_integrity", stdout=out)
    assert refused.value.returncode == 1  # `manage.py` exits with status 1
    assert str(refused.value) == "1 件の明細が、存在しない行を参照しています（charge 1）。"
    assert out.getvalue().strip() == (
        f"書類 {line.document.number}（ネットワーク {books.network.pk}）の明細 {line.pk}: "
        f"charge {charge.pk} が存在しません。"
    )


def test_lines_pointing_at_a_missing_project_and_package_are_found_too(books):
    project = _closed_month(books)
    package_line = DocumentLine.objects.filter(package__isnull=False).first()
    project_line = DocumentLine.objects.filter(project=project).exclude(pk=package_line.pk).first()
    missing = 10**9
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_documentline SET package_id = %s WHERE id = %s",
            [missing, package_line.pk],
        )
        cursor.execute(
            "UPDATE billing_documentline SET project_id = %s WHERE id = %s",
            [missing, project_line.pk],
        )
    found = {(d.link, d.line_id, d.missing_id) for d in document_lines_dangling()}
    assert found == {("package", package_line.pk, missing), ("project", project_line.pk, missing)}
    assert len(document_lines_dangling(limit=1)) == 2  # the limit is per kind of link


def test_the_daily_job_logs_and_tells_the_network_secretariat_once_a_day(
    books, buff, stainless, secretariat_user, caplog, time_machine
):
    time_machine.move_to(tokyo(2026, 11, 5, 6, 15), tick=False)
    secretariat_user.preferred_language = "ja"
    secretariat_user.save(update_fields=["preferred_language"])
    # Another network, sound, with its own secretariat: told nothing.
    calm = Books(NetworkFactory(slug="calm"), buff, stainless)
    calm_staff = NetworkStaffFactory(network=calm.network, role="secretariat").user
    _closed_month(calm)
    project = _closed_month(books)
    _raw_delete_charge(MemberCharge.objects.get(package__project=project).pk)

    with caplog.at_level(logging.ERROR, logger="brokerage.integrity"):
        assert tasks.document_lines_check_integrity_task() == {str(books.network.pk): 1}
    assert "1 document lines of network" in caplog.text
    assert tasks.document_lines_check_integrity_task() == {str(books.network.pk): 1}
    [notice] = Notification.objects.filter(kind="billing_integrity")
    assert notice.recipient == secretariat_user
    assert notice.subject == "精算記録: 書類の明細が存在しない記録を参照しています"
    assert "発行済み書類の明細 1 件" in notice.body
    assert not Notification.objects.filter(recipient=calm_staff).exists()
    # The next day it is still there: told again.
    time_machine.shift(24 * 3600)
    tasks.document_lines_check_integrity_task()
    assert Notification.objects.filter(kind="billing_integrity").count() == 2


def test_the_integrity_job_is_scheduled_daily_on_the_settlement_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["billing-document-lines-check-integrity"]
    assert entry["task"] == "billing.document_lines_check_integrity_task" in app.tasks
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "settlement"

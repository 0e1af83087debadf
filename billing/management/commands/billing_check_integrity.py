"""`manage.py billing_check_integrity`: document lines whose project, package or charge no
longer exists (their links have no database constraint: docs/integrity.md). Exit status 1
when any is found, so a cron job or CI step fails; 0 when the data is sound."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from billing.integrity import document_lines_dangling, document_lines_dangling_counts


class Command(BaseCommand):
    help = "Find document lines whose project, package or charge no longer exists."

    def add_arguments(self, parser):
        parser.add_argument(
            "--show",
            type=int,
            default=50,
            help="Lines listed per kind of link (the counts are always complete).",
        )

    def handle(self, *args, show: int, **options):
        per_link: dict[str, int] = {}
        for counts in document_lines_dangling_counts().values():
            for link, n in counts.items():
                per_link[link] = per_link.get(link, 0) + n
        total = sum(per_link.values())
        if not total:
            self.stdout.write(_("Document lines: every project, package and charge exists."))
            return
        for line in document_lines_dangling(limit=show):
            self.stdout.write(
                _(
                    "Line %(line)d of document %(number)s (network %(network)d): "
                    "%(link)s %(missing)d does not exist."
                )
                % {
                    "line": line.line_id,
                    "number": line.document_number,
                    "network": line.network_id,
                    "link": line.link,
                    "missing": line.missing_id,
                }
            )
        summary = ", ".join(f"{link} {n}" for link, n in per_link.items())
        raise CommandError(
            _("%(total)d document lines point at rows that no longer exist (%(summary)s).")
            % {"total": total, "summary": summary},
            returncode=1,
        )

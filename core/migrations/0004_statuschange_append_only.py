"""On PostgreSQL the audit trail refuses UPDATE and DELETE at the database, so no code path
(QuerySet.update, raw SQL, the admin) can rewrite history. TRUNCATE, used by test teardown,
is not a row operation and still works. SQLite keeps the model-level guard only."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_statuschange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_statuschange is append-only (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_statuschange_append_only
    BEFORE UPDATE OR DELETE ON core_statuschange
    FOR EACH ROW EXECUTE FUNCTION core_statuschange_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS core_statuschange_append_only ON core_statuschange;
DROP FUNCTION IF EXISTS core_statuschange_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_domainevent")]
    operations = [migrations.RunPython(forwards, backwards)]

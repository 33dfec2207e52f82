"""On PostgreSQL, the search table's vector becomes a real tsvector and gets GIN
indexes (for the @@ match and the acl && overlap), and acl a varchar[]. On SQLite the table is unused."""

from django.db import migrations

from kb_documents.migrations._postgresql_only import run_on_postgresql

FORWARD = [
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN acl TYPE varchar(60)[] USING string_to_array(acl, ' ')",
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN vector TYPE tsvector USING vector::tsvector",
    "CREATE INDEX kb_searchentry_vector_gin ON kb_documents_searchentry USING gin (vector)",
    "CREATE INDEX kb_searchentry_acl_gin ON kb_documents_searchentry USING gin (acl)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS kb_searchentry_acl_gin",
    "DROP INDEX IF EXISTS kb_searchentry_vector_gin",
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN vector TYPE text",
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN acl TYPE text USING array_to_string(acl, ' ')",
]


class Migration(migrations.Migration):
    dependencies = [("kb_documents", "0001_initial")]

    operations = [run_on_postgresql(FORWARD, BACKWARD)]

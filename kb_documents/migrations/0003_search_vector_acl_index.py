"""On PostgreSQL, one GIN index on (vector, acl) replaces the two on vector and on acl:
a search's permission filter (acl && the user's terms) is then applied inside the
index scan with the text match, and rows the user may not see are never read (for
a partner or a user's private items, the text index alone found every match and
the filter dropped most of them on the heap). The index also serves acl alone.
Building it reads the whole table (a few seconds per 100,000 entries); the entries
themselves do not change, so no rebuild_index is needed. On SQLite the table is
unused."""

from django.db import migrations

from kb_documents.migrations._postgresql_only import run_on_postgresql

FORWARD = [
    "CREATE INDEX kb_searchentry_vector_acl_gin ON kb_documents_searchentry "
    "USING gin (vector, acl)",
    "DROP INDEX IF EXISTS kb_searchentry_vector_gin",
    "DROP INDEX IF EXISTS kb_searchentry_acl_gin",
]
BACKWARD = [
    "CREATE INDEX kb_searchentry_vector_gin ON kb_documents_searchentry USING gin (vector)",
    "CREATE INDEX kb_searchentry_acl_gin ON kb_documents_searchentry USING gin (acl)",
    "DROP INDEX IF EXISTS kb_searchentry_vector_acl_gin",
]


class Migration(migrations.Migration):
    dependencies = [("kb_documents", "0002_postgres_search")]

    operations = [run_on_postgresql(FORWARD, BACKWARD)]

"""The search table gets `title_vector`: each entry's title forms and stems, without
positions. On PostgreSQL it is a tsvector with a GIN index of its own, and it is filled
from the entries' vectors (the title's lexemes are those of weights A and C), so no
rebuild_index is needed: one rewrite of the table, about 13 s per 100,000 entries
(measured on the bench's corpus), during which searches and index writes wait for
its lock; index jobs stay queued meanwhile, so nothing is lost.
The column keeps a default, so a process still running the previous code, which does
not write it, can still index. On SQLite the table is unused."""

from django.db import migrations, models

from kb_documents.migrations._postgresql_only import run_on_postgresql

FORWARD = [
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN title_vector DROP DEFAULT",
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN title_vector TYPE tsvector "
    "USING strip(ts_filter(vector, '{a,c}'))",
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN title_vector SET DEFAULT ''",
    "CREATE INDEX kb_searchentry_title_gin ON kb_documents_searchentry "
    "USING gin (title_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS kb_searchentry_title_gin",
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN title_vector DROP DEFAULT",
    "ALTER TABLE kb_documents_searchentry ALTER COLUMN title_vector TYPE text",
]


class Migration(migrations.Migration):
    dependencies = [("kb_documents", "0004_index_job")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="title_vector",
            field=models.TextField(db_default=""),
        ),
        run_on_postgresql(FORWARD, BACKWARD),
    ]

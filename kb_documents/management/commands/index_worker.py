"""manage.py index_worker: writes the search index queue of every process, for a
deployment whose web processes only queue (SEARCH_INDEX_WORKER=1). Several may run
at once: each claims its jobs (kb_documents.search.indexing.write_queued)."""

from __future__ import annotations

from hub.workers import Counts, PollingWorkerCommand
from kb_documents.search import indexing


class Command(PollingWorkerCommand):
    help = "Write the queued search index updates (SEARCH_INDEX_WORKER=1 deployments)."
    # A change is searchable about as soon as with a web process's own indexer
    # (indexing.BATCH_DELAY_SECONDS).
    default_interval = indexing.BATCH_DELAY_SECONDS

    def run_pass(self) -> Counts:
        return {"written": indexing.write_all_queued()}

    def summary(self, counts: Counts) -> str:
        return f"index_worker: {counts['written']} updates written"

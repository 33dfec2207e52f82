"""Documents over the API: upload, versions, safe downloads, and bad uploads that
get a clear 4xx and leave nothing behind (no row, no file, no index entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from hub.models import Account
from kb_documents.models import Document, DocumentVersion
from kb_documents.search.service import search
from tests.conftest import login_client
from tests.kb_documents.files import EXE_BYTES, make_docx, make_pdf

pytestmark = pytest.mark.django_db


def upload(client: Any, data: bytes, name: str, **fields: Any) -> Any:
    return client.post("/api/v1/documents/", {"file": SimpleUploadedFile(name, data), **fields})


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_an_uploaded_pdf_is_stored_versioned_and_found(
    search_backend: Any, committed: Any, people: Any
) -> None:
    account = Account.objects.create(name="Nordlys AS")
    client = login_client(people.agent)
    with committed():
        response = upload(
            client,
            make_pdf("Commissioning report", "Boiler pressure 3.2 bar"),
            "report.pdf",
            title="Commissioning",
            account=account.pk,
        )
    assert response.status_code == 201, response.json()
    document = response.json()
    assert document["content_type"] == "application/pdf"
    assert document["version"] == 1 and document["account"] == account.pk
    found = client.get("/api/v1/search/", {"q": "boiler pressure"}).json()
    assert found["count"] == 1
    assert found["results"][0] == {
        "type": "document",
        "id": document["id"],
        "title": "Commissioning",
        "snippet": found["results"][0]["snippet"],
        "score": found["results"][0]["score"],
        "url": f"/api/v1/documents/{document['id']}/",
    }
    assert "<mark>Boiler</mark> <mark>pressure</mark>" in found["results"][0]["snippet"]
    assert client.get("/api/v1/search/", {"q": f"boiler account:{account.pk}"}).json()["count"] == 1


def test_a_new_version_replaces_the_indexed_text_and_keeps_the_old_file(
    search_backend: Any, committed: Any, people: Any
) -> None:
    client = login_client(people.agent)
    with committed():
        document_id = upload(client, make_docx("Draft: pumps"), "spec.docx").json()["id"]
        response = client.post(
            f"/api/v1/documents/{document_id}/versions/",
            {"file": SimpleUploadedFile("spec-v2.docx", make_docx("Final: compressors"))},
        )
    assert response.status_code == 201
    assert response.json()["version"] == 2
    versions = client.get(f"/api/v1/documents/{document_id}/versions/").json()["results"]
    assert [version["number"] for version in versions] == [2, 1]
    assert search(people.agent, "compressors").count == 1
    assert search(people.agent, "pumps").count == 0
    old = client.get(f"/api/v1/documents/{document_id}/download/?version=1")
    assert b"".join(old.streaming_content).startswith(b"PK")


def test_a_download_is_an_attachment_with_its_true_type_and_nosniff(people: Any) -> None:
    client = login_client(people.agent)
    html = b"<!doctype html><html><body><script>alert(document.cookie)</script>Hi</body></html>"
    document_id = upload(client, html, "page.txt").json()["id"]
    response = client.get(f"/api/v1/documents/{document_id}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="page.html"' in response["Content-Disposition"]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == html


def test_the_filename_on_disk_is_not_the_uploaders(people: Any) -> None:
    upload(login_client(people.agent), b"text", "../../../etc/passwd.txt")
    [path] = stored_files()
    assert path.is_relative_to(Path(settings.MEDIA_ROOT) / "documents")
    assert "passwd" not in path.name
    assert DocumentVersion.objects.get().filename == "passwd.txt"


def assert_nothing_left(people: Any) -> None:
    assert not Document.objects.exists()
    assert not DocumentVersion.objects.exists()
    assert stored_files() == []
    assert search(people.agent, "type:document").count == 0


def test_a_too_large_file_gets_413_and_leaves_nothing(
    search_backend: Any, committed: Any, people: Any, settings: Any
) -> None:
    settings.DOCUMENT_MAX_BYTES = 1024
    with committed():
        response = upload(login_client(people.agent), b"a" * 1025, "big.txt")
    assert response.status_code == 413
    assert "larger than the limit" in str(response.json())
    assert_nothing_left(people)


def test_a_request_far_above_the_limit_is_refused_before_it_is_read(
    people: Any, settings: Any
) -> None:
    settings.DOCUMENT_MAX_BYTES = 1024
    response = upload(login_client(people.agent), b"a" * 200_000, "huge.txt")
    assert response.status_code == 413
    assert_nothing_left(people)


def test_a_program_disguised_as_a_pdf_gets_415_and_leaves_nothing(
    search_backend: Any, committed: Any, people: Any
) -> None:
    with committed():
        response = upload(login_client(people.agent), EXE_BYTES, "invoice.pdf")
    assert response.status_code == 415
    assert "not accepted" in str(response.json()["file"])
    assert_nothing_left(people)


def test_a_corrupt_pdf_gets_400_and_leaves_nothing(
    search_backend: Any, committed: Any, people: Any
) -> None:
    with committed():
        response = upload(login_client(people.agent), make_pdf("fine")[:150], "broken.pdf")
    assert response.status_code == 400
    assert "PDF cannot be read" in str(response.json()["file"])
    assert_nothing_left(people)


def test_a_bad_new_version_leaves_the_document_as_it_was(committed: Any, people: Any) -> None:
    client = login_client(people.agent)
    with committed():
        document_id = upload(client, b"version one", "a.txt").json()["id"]
        response = client.post(
            f"/api/v1/documents/{document_id}/versions/",
            {"file": SimpleUploadedFile("b.pdf", b"%PDF-1.4 broken")},
        )
    assert response.status_code == 400
    assert DocumentVersion.objects.count() == 1
    assert len(stored_files()) == 1
    assert client.get(f"/api/v1/documents/{document_id}/").json()["version"] == 1


def test_a_failure_after_the_file_is_written_removes_the_file(
    people: Any, monkeypatch: Any
) -> None:
    from kb_documents import actions

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(actions, "record_audit", fail)
    with pytest.raises(RuntimeError):
        actions.do_upload_document(b"some text", "a.txt", by=people.agent)
    assert_nothing_left(people)


def test_deleting_a_document_removes_its_files_and_index_entry(
    search_backend: Any, committed: Any, people: Any
) -> None:
    client = login_client(people.agent)
    with committed():
        document_id = upload(client, b"turbine manual", "manual.txt").json()["id"]
    assert search(people.agent, "turbine").count == 1
    with committed():
        assert client.delete(f"/api/v1/documents/{document_id}/").status_code == 204
    assert_nothing_left(people)
    assert search(people.agent, "turbine").count == 0


def test_changing_visibility_reindexes_who_may_find_it(
    search_backend: Any, committed: Any, people: Any
) -> None:
    client = login_client(people.agent)
    with committed():
        document_id = upload(client, b"crane inspection", "crane.txt").json()["id"]
    assert search(people.partner_a, "crane").count == 0
    with committed():
        response = client.patch(
            f"/api/v1/documents/{document_id}/",
            {"visibility": "partner", "partners": [people.org_a.pk]},
            content_type="application/json",
        )
    assert response.status_code == 200, response.json()
    assert search(people.partner_a, "crane").count == 1
    assert (
        login_client(people.partner_a).get(f"/api/v1/documents/{document_id}/download/").status_code
        == 200
    )


def test_search_api_pages_and_refuses_nothing(
    search_backend: Any, committed: Any, people: Any
) -> None:
    client = login_client(people.agent)
    with committed():
        for number in range(3):
            upload(client, f"forklift {number}".encode(), f"f{number}.txt")
    first = client.get("/api/v1/search/", {"q": "forklift", "page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert client.get("/api/v1/search/", {"q": ""}).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert client.get("/api/v1/search/", {"q": "forklift"}).json()["count"] == 3
    assert (
        login_client(people.partner_a).get("/api/v1/search/", {"q": "forklift"}).json()["count"]
        == 0
    )


def test_search_needs_a_signed_in_user(people: Any) -> None:
    from django.test import Client

    assert Client().get("/api/v1/search/", {"q": "x"}).status_code in (401, 403)


def test_healthz_reports_the_search_backend(search_backend: Any, people: Any) -> None:
    from django.test import Client

    body = Client().get("/healthz").json()
    assert body["search"]["status"] == "ok"
    assert body["search"]["backend"] == search_backend.name


def test_changing_visibility_keeps_the_links_it_does_not_mention(people: Any) -> None:
    account = Account.objects.create(name="Kept AS")
    client = login_client(people.agent)
    document_id = upload(client, b"text", "a.txt", account=account.pk).json()["id"]
    response = client.patch(
        f"/api/v1/documents/{document_id}/",
        {"visibility": "private"},
        content_type="application/json",
    )
    assert response.json()["visibility"] == "private"
    assert response.json()["account"] == account.pk

"""CSV import/export of contacts and accounts (issue 11 item 5)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.actions import EmailInput, PhoneInput, do_create_contact
from hub.imports import CsvImportError, detect_mapping, export_csv, run_import
from hub.models import Account, Contact, ContactPhone
from tests.conftest import login_client
from tests.factories import Personas

pytestmark = pytest.mark.django_db

# Headers as another CRM writes them; row 3 and row 5 are bad.
OTHER_CRM = (
    "First Name,Last Name,E-mail Address,Mobile Phone,Company,Job Title,Country\n"
    "Ola,Nordmann,ola@example.no,+47 412 34 567,Fjord AS,Buyer,NO\n"
    "Bad,Mail,not-an-email,,Fjord AS,,NO\n"
    "Kari,Hansen,kari@example.no,0047 98765432,Fjord AS,CTO,NO\n"
    ",,,,,,\n"
)


def test_common_headers_are_detected() -> None:
    mapping = detect_mapping(
        "contacts", ["First Name", "Last Name", "E-mail Address", "Mobile Phone", "Company"]
    )
    assert mapping == {
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "E-mail Address",
        "phone": "Mobile Phone",
        "account": "Company",
    }


def test_atomic_import_with_bad_rows_reports_each_and_imports_nothing() -> None:
    report = run_import("contacts", OTHER_CRM, atomic=True)
    assert [(row.row, row.action) for row in report.errors] == [(3, "error"), (5, "error")]
    assert "not-an-email" in report.errors[0].reason
    assert "name" in report.errors[1].reason
    assert not report.committed
    assert Contact.objects.count() == 0
    assert Account.objects.count() == 0


def test_partial_import_keeps_the_good_rows() -> None:
    report = run_import("contacts", OTHER_CRM, atomic=False)
    assert report.committed
    assert [row.row for row in report.errors] == [3, 5]
    assert report.count("created") == 2
    ola = Contact.objects.get(name="Ola Nordmann")
    assert ola.account.name == "Fjord AS"
    assert ola.job_title == "Buyer"
    assert list(ola.phones.values_list("e164", flat=True)) == ["+4741234567"]
    assert Contact.objects.get(name="Kari Hansen").phones.get().e164 == "+4798765432"
    assert Account.objects.count() == 1


def test_dry_run_previews_and_writes_nothing() -> None:
    report = run_import("contacts", OTHER_CRM, atomic=False, dry_run=True)
    assert report.count("created") == 2
    assert len(report.errors) == 2
    assert not report.committed
    assert Contact.objects.count() == 0


def test_dedupe_by_email_and_by_normalized_phone() -> None:
    existing = do_create_contact("Ola N.", emails=[EmailInput("OLA@example.no")], country="NO")
    by_phone = do_create_contact("Kari", phones=[PhoneInput("+47 98 76 54 32")], country="NO")
    report = run_import("contacts", OTHER_CRM, atomic=False)
    assert report.count("created") == 0
    assert report.count("updated") == 2
    assert Contact.objects.count() == 2
    existing.refresh_from_db()
    assert existing.name == "Ola Nordmann"
    assert existing.phones.get().e164 == "+4741234567"
    by_phone.refresh_from_db()
    assert by_phone.name == "Kari Hansen"
    assert list(by_phone.emails.values_list("address", flat=True)) == ["kari@example.no"]


def test_duplicates_inside_one_file_become_one_contact() -> None:
    text = "name,email,phone\nA,a@x.test,\nA again,A@X.test,+4741234567\n"
    report = run_import("contacts", text)
    assert [row.action for row in report.rows] == ["created", "updated"]
    contact = Contact.objects.get()
    assert contact.name == "A again"
    assert contact.phones.get().e164 == "+4741234567"


def test_export_then_import_changes_nothing() -> None:
    account = Account.objects.create(name="Acme", domain="acme.test", country="DE", employees=40)
    do_create_contact(
        "Jo",
        account=account,
        phones=[PhoneInput("030 1234567"), PhoneInput("+4915112345678")],
        emails=[EmailInput("jo@acme.test"), EmailInput("j@acme.test")],
        country="DE",
        job_title="Owner",
    )
    do_create_contact("No Mail", phones=[PhoneInput("+15005550006")])
    for kind in ("accounts", "contacts"):
        out = io.StringIO()
        export_csv(kind, out)
        before = out.getvalue()
        report = run_import(kind, before)
        assert {row.action for row in report.rows} == {"unchanged"}, report.as_dict()
        again = io.StringIO()
        export_csv(kind, again)
        assert again.getvalue() == before
    assert ContactPhone.objects.count() == 3


def test_accounts_dedupe_by_name_or_domain_and_report_bad_values() -> None:
    Account.objects.create(name="Acme GmbH", domain="acme.test")
    text = (
        "Company,Website,Employees,Tier\n"
        "ACME GMBH,https://www.acme.test/,12,\n"
        "Other name,acme.test,,\n"
        "Big,,lots,\n"
        "Small,,,gold-ish\n"
    )
    report = run_import("accounts", text, atomic=False)
    assert [row.action for row in report.rows] == ["updated", "updated", "error", "error"]
    assert Account.objects.count() == 1
    assert Account.objects.get().employees == 12


def test_mapping_can_be_given_and_unknown_columns_are_refused() -> None:
    text = "Kunde;Epost\nOla;ola@example.no\n"
    report = run_import("contacts", text, mapping={"name": "Kunde", "email": "Epost"})
    assert report.count("created") == 1
    with pytest.raises(CsvImportError):
        run_import("contacts", text, mapping={"name": "Nope"})
    with pytest.raises(CsvImportError):
        run_import("contacts", "foo,bar\n1,2\n")


def test_command_reports_rows_and_refuses_half_imports(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(OTHER_CRM, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_csv", "contacts", str(path), stdout=out, stderr=err)
    assert "row 3:" in out.getvalue() and "row 5:" in out.getvalue()
    assert "4/4 rows" in err.getvalue()
    assert Contact.objects.count() == 0
    call_command("import_csv", "contacts", str(path), "--partial", stdout=out, stderr=err)
    assert Contact.objects.count() == 2
    export = tmp_path / "out.csv"
    call_command("export_csv", "contacts", str(export), stderr=err)
    assert export.read_text().startswith("name,email,phone,account")


def test_upload_over_the_api_previews_then_imports(people: Personas) -> None:
    client = login_client(people.supervisor)

    def upload(**fields: object) -> object:
        file = SimpleUploadedFile("c.csv", OTHER_CRM.encode(), content_type="text/csv")
        return client.post("/api/v1/imports/contacts/", {"file": file, **fields})

    preview = upload(dry_run="true", mode="partial")
    assert preview.status_code == 200
    body = preview.json()
    assert (body["created"], [e["row"] for e in body["errors"]]) == (2, [3, 5])
    assert Contact.objects.count() == 0
    refused = upload()
    assert refused.status_code == 400
    assert refused.json()["committed"] is False
    assert Contact.objects.count() == 0
    assert upload(mode="partial").status_code == 201
    assert Contact.objects.count() == 2
    bad_mapping = upload(mapping='{"name": "Nope"}')
    assert bad_mapping.status_code == 400
    export = client.get("/api/v1/exports/contacts/")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert b"Ola Nordmann" in export.content
    assert client.get("/api/v1/exports/nothing/").status_code == 404


def test_import_and_export_are_for_supervisors(people: Personas) -> None:
    file = SimpleUploadedFile("c.csv", OTHER_CRM.encode(), content_type="text/csv")
    agent = login_client(people.agent)
    assert agent.post("/api/v1/imports/contacts/", {"file": file}).status_code == 403
    assert agent.get("/api/v1/exports/contacts/").status_code == 403
    assert login_client(people.partner_a).get("/api/v1/exports/contacts/").status_code == 404
    assert Contact.objects.count() == 0

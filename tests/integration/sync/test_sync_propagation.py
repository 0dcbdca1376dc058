"""Creates, updates and deletes on each side reach the other (R-S1, R-S3, R-S5), against
the emulated org over HTTPS and the store under test."""

from __future__ import annotations

from crmbridge.sync.runs import RunKind
from crmbridge.sync.testing import SyncWorld


def _contact(world: SyncWorld, platform_id: str) -> dict[str, object]:
    (record,) = world.query(
        "SELECT Id, FirstName, LastName, Email, Phone, Title, Platform_Id__c "
        f"FROM Contact WHERE Platform_Id__c = '{platform_id}'"
    )
    return record


def test_a_member_created_updated_and_deleted_on_the_platform_reaches_salesforce(
    sync_world: SyncWorld,
) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(mappings["Contact"], delete_policy="propagate")
    member = sync_world.create(
        "member", first_name="Ada", last_name="Lovelace", email="ada@example.org", phone="123"
    )
    first = sync_world.run()
    assert first.status == "succeeded", first.error
    contact = _contact(sync_world, member)
    assert (contact["FirstName"], contact["LastName"], contact["Email"], contact["Phone"]) == (
        "Ada",
        "Lovelace",
        "ada@example.org",
        "123",
    )
    record = sync_world.record("member", member)
    assert record is not None
    assert (record.salesforce_id, record.sync_status) == (contact["Id"], "synced")

    sync_world.update("member", member, title="Countess", phone="456")
    assert sync_world.run().status == "succeeded"
    contact = _contact(sync_world, member)
    assert (contact["Title"], contact["Phone"]) == ("Countess", "456")

    sync_world.delete("member", member)
    assert sync_world.run().status == "succeeded"
    gone = sync_world.query(
        f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact['Id']}'", include_deleted=True
    )
    assert gone[0]["IsDeleted"] is True


def test_a_contact_created_updated_and_deleted_in_salesforce_reaches_the_platform(
    sync_world: SyncWorld,
) -> None:
    mappings = sync_world.install()
    sync_world.patch_mapping(mappings["Contact"], delete_policy="propagate")
    with sync_world.salesforce() as sf:
        contact_id = sf.create(
            "Contact", {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.org"}
        )
    assert sync_world.run().status == "succeeded"
    (member,) = sync_world.records("member")
    assert (member.data["first_name"], member.data["email"]) == ("Grace", "grace@example.org")
    assert member.salesforce_id == contact_id
    # The engine stamped its platform id on the Contact, so later upserts reach it.
    assert _contact(sync_world, member.id)["Id"] == contact_id

    with sync_world.salesforce() as sf:
        sf.update("Contact", contact_id, {"Title": "Rear Admiral"})
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member.id)
    assert record is not None
    assert record.data["title"] == "Rear Admiral"

    with sync_world.salesforce() as sf:
        sf.delete("Contact", contact_id)
    assert sync_world.run().status == "succeeded"
    record = sync_world.record("member", member.id)
    assert record is not None
    assert record.deleted_at is not None


def test_an_organization_hierarchy_created_on_the_platform_keeps_its_parents(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    root = sync_world.create("organization", name="Movement HQ")
    region = sync_world.create("organization", name="North", parent_id=root)
    local = sync_world.create("organization", name="North Town", parent_id=region)
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    accounts = {
        a["Platform_Id__c"]: a
        for a in sync_world.query("SELECT Id, Name, ParentId, Platform_Id__c FROM Account")
    }
    assert accounts[region]["ParentId"] == accounts[root]["Id"]
    assert accounts[local]["ParentId"] == accounts[region]["Id"]
    assert accounts[root]["ParentId"] is None


def test_an_account_hierarchy_created_in_salesforce_arrives_with_its_parents(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        parent = sf.create("Account", {"Name": "Parent Co"})
        child = sf.create("Account", {"Name": "Child Co", "ParentId": parent})
        sf.create("Contact", {"FirstName": "Kim", "LastName": "Lee", "AccountId": child})
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    orgs = {r.data["name"]: r for r in sync_world.records("organization")}
    assert orgs["Child Co"].data["parent_id"] == orgs["Parent Co"].id
    (member,) = sync_world.records("member")
    assert member.data["organization_id"] == orgs["Child Co"].id
    assert member.data["company"] == "Child Co"
    # Both Accounts now carry their platform ids.
    stamped = {
        a["Id"]: a["Platform_Id__c"]
        for a in sync_world.query("SELECT Id, Platform_Id__c FROM Account")
    }
    assert stamped == {parent: orgs["Parent Co"].id, child: orgs["Child Co"].id}


def test_leads_sync_both_ways(sync_world: SyncWorld) -> None:
    sync_world.install((("lead", "Lead"),))
    lead = sync_world.create("lead", last_name="Curie", company="Radium Ltd", status="NEW")
    with sync_world.salesforce() as sf:
        sf.create("Lead", {"LastName": "Noether", "Company": "Algebra Inc", "Status": "Contacted"})
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    leads = {
        r["LastName"]: r
        for r in sync_world.query("SELECT Id, LastName, Status, Company, Platform_Id__c FROM Lead")
    }
    assert leads["Curie"]["Platform_Id__c"] == lead
    assert leads["Curie"]["Status"] == "New"
    platform = {r.data["last_name"]: r for r in sync_world.records("lead")}
    assert platform["Noether"].data["status"] == "CONTACTED"
    assert platform["Noether"].data["company"] == "Algebra Inc"


def test_a_second_run_with_nothing_new_writes_nothing(sync_world: SyncWorld) -> None:
    sync_world.install()
    sync_world.create("member", first_name="Ada", last_name="Lovelace")
    with sync_world.salesforce() as sf:
        sf.create("Contact", {"FirstName": "Grace", "LastName": "Hopper"})
    assert sync_world.run().status == "succeeded"
    sync_world.calls(reset=True)
    again = sync_world.run()
    assert again.status == "succeeded"
    assert again.total("created") + again.total("updated") + again.total("linked") == 0
    calls = sync_world.calls()["by_resource"]
    # Only the polls (Account, Contact, and the Contact filter's leavers): no writes.
    assert set(calls) <= {"queryAll"}, calls


def test_a_full_resync_changes_nothing_when_both_sides_agree(sync_world: SyncWorld) -> None:
    sync_world.install()
    sync_world.create("member", first_name="Ada", last_name="Lovelace")
    assert sync_world.run().status == "succeeded"
    full = sync_world.run(RunKind.FULL)
    assert full.status == "succeeded", full.error
    assert full.total("created") + full.total("updated") == 0


def test_records_on_both_sides_before_the_first_sync_are_linked_by_email(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    member = sync_world.create(
        "member", first_name="Ada", last_name="Lovelace", email="ada@example.org", phone="1"
    )
    twins = [
        sync_world.create("member", first_name="Twin", last_name=f"T{i}", email="twin@example.org")
        for i in range(2)
    ]
    with sync_world.salesforce() as sf:
        contact_id = sf.create(
            "Contact",
            {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ADA@example.org", "Title": "Dr"},
        )
        sf.create("Contact", {"FirstName": "Twin", "LastName": "T9", "Email": "twin@example.org"})
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    # Ada exists once on each side, linked; her Salesforce title reached the platform.
    (contact,) = sync_world.query(
        "SELECT Id, Platform_Id__c, Phone FROM Contact WHERE LastName = 'Lovelace'"
    )
    assert (contact["Id"], contact["Platform_Id__c"]) == (contact_id, member)
    record = sync_world.record("member", member)
    assert record is not None
    assert record.data["title"] == "Dr"
    # Without a base every difference is a conflict, settled by the policy (most
    # recent: the Contact was edited last); both sides agree afterwards.
    assert contact["Phone"] == record.data.get("phone")
    assert len([m for m in sync_world.records("member") if m.data["last_name"] == "Lovelace"]) == 1
    # An e-mail two platform records share matches nothing: no guess is made.
    twins_in_salesforce = sync_world.query(
        "SELECT Platform_Id__c FROM Contact WHERE Email = 'twin@example.org'"
    )
    assert len(twins_in_salesforce) == 3
    assert set(twins) < {r["Platform_Id__c"] for r in twins_in_salesforce}


def test_a_members_company_finds_or_creates_the_account_once(sync_world: SyncWorld) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        existing = sf.create("Account", {"Name": "Acme"})
    first = sync_world.create("member", first_name="A", last_name="One", company="ACME ")
    second = sync_world.create("member", first_name="B", last_name="Two", company="Newco")
    third = sync_world.create("member", first_name="C", last_name="Three", company="newco")
    summary = sync_world.run()
    assert summary.status == "succeeded", summary.error
    contacts = {
        r["Platform_Id__c"]: r
        for r in sync_world.query("SELECT AccountId, Account.Name, Platform_Id__c FROM Contact")
    }
    assert contacts[first]["AccountId"] == existing
    assert contacts[second]["AccountId"] == contacts[third]["AccountId"]
    assert contacts[second]["Account"]["Name"].lower() == "newco"
    assert len(sync_world.query("SELECT Id FROM Account WHERE Name = 'Newco'")) == 1
    # Lookups match names ignoring case and blanks, as SOQL does; the Account's own
    # spelling then comes back to the platform once, and both sides agree.
    assert sync_world.run().status == "succeeded"
    for member in (first, second, third):
        record = sync_world.record("member", member)
        assert record is not None
        assert record.data["company"] == contacts[member]["Account"]["Name"]
    quiet = sync_world.run()
    assert quiet.status == "succeeded"
    assert quiet.total("updated") + quiet.total("created") == 0

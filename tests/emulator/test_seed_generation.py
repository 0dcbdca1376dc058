"""The seed generator's pure part: reproducible, related, realistic rows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from crmbridge.emulator.schema_default import DEFAULT_STAGES, build_default_schema
from crmbridge.emulator.seed import SeedContext, counter_ids, generate_org, plan_for

_NOW = datetime(2025, 3, 1, tzinfo=UTC)
_ADMIN = "0055g0000000001AAA"


def _generate(seed: int, contacts: int = 600) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for sobject, batch in generate_org(
        plan_for(contacts),
        seed=seed,
        ids=counter_ids(),
        context=SeedContext(admin_user_id=_ADMIN, now=_NOW),
        batch_size=250,
    ):
        rows.setdefault(sobject, []).extend(batch)
    return rows


def test_same_seed_gives_the_same_org_and_another_seed_a_different_one() -> None:
    first, again, other = _generate(11), _generate(11), _generate(12)
    assert first == again
    assert first["Contact"] != other["Contact"]


def test_every_reference_points_at_a_generated_record() -> None:
    rows = _generate(3)
    ids = {sobject: {r["Id"] for r in batch} for sobject, batch in rows.items()}
    users = ids["User"]
    for _sobject, batch in rows.items():
        for row in batch:
            assert row.get("OwnerId") is None or row["OwnerId"] in users
    assert all(r["AccountId"] is None or r["AccountId"] in ids["Account"] for r in rows["Contact"])
    assert all(r["AccountId"] in ids["Account"] for r in rows["Opportunity"])
    for member in rows["CampaignMember"]:
        assert member["CampaignId"] in ids["Campaign"]
        assert (member["ContactId"] in ids["Contact"]) != (member["LeadId"] in ids["Lead"])
    assert all(r["WhoId"] in ids["Contact"] for r in rows["Task"])


def test_account_hierarchy_is_acyclic_and_more_than_one_level_deep() -> None:
    accounts = _generate(5, contacts=3000)["Account"]
    parent_of = {a["Id"]: a["ParentId"] for a in accounts}
    depths = []
    for account_id in parent_of:
        depth, current, seen = 0, account_id, set()
        while parent_of.get(current):
            assert current not in seen
            seen.add(current)
            current = parent_of[current]
            depth += 1
        depths.append(depth)
    assert max(depths) == 2
    assert sum(1 for d in depths if d) > len(depths) // 10


def test_data_is_varied_the_way_the_guides_need_it() -> None:
    rows = _generate(8, contacts=2000)
    users = rows["User"]
    assert any(u["IsActive"] for u in users)
    assert any(not u["IsActive"] for u in users)
    assert {o["StageName"] for o in rows["Opportunity"]} == {s[0] for s in DEFAULT_STAGES}
    contacts = rows["Contact"]
    assert 0 < sum(c["Movement_Exclude__c"] for c in contacts) < len(contacts) // 10
    assert len(Counter(c["Membership_Status__c"] for c in contacts)) >= 5
    assert any(c["Member_Tags__c"] and ";" in c["Member_Tags__c"] for c in contacts)
    assert len({c["Email"] for c in contacts if c["Email"]}) == sum(
        1 for c in contacts if c["Email"]
    )
    leads = rows["Lead"]
    assert len({lead["Status"] for lead in leads}) >= 5
    assert len({lead["Insurance_Type__c"] for lead in leads}) >= 5
    campaigns = rows["Campaign"]
    assert any(c["Movement_Include__c"] for c in campaigns)
    members = rows["CampaignMember"]
    assert any(m["Voted__c"] for m in members)
    assert any(m["Contacted__c"] for m in members)
    assert all(
        c["CreatedDate"] <= c["SystemModstamp"] <= "2025-03-01T00:00:00.000Z" for c in contacts
    )


def test_generated_rows_only_use_fields_the_default_schema_has() -> None:
    schema = build_default_schema()
    for sobject, batch in _generate(2).items():
        sobj = schema.get(sobject)
        assert sobj is not None
        names = {f.name for f in sobj.stored_fields}
        unknown = set().union(*(row.keys() for row in batch)) - names
        assert not unknown, f"{sobject}: {unknown}"

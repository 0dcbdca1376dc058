"""An Account whose parent arrives on a later query page still syncs in the same run
(R-S1, R-F2): it waits for its parent instead of being dead-lettered."""

from __future__ import annotations

import sqlalchemy as sa

from crmbridge.store.sync_models import SyncFailure
from crmbridge.sync.testing import SyncWorld

#: The smallest page Salesforce serves (REST API Developer Guide, "Query Options
#: Header": batchSize 200 to 2,000).
PAGE = 200


def test_a_child_account_read_a_page_before_its_parent_links_to_it(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        parent = sf.create("Account", {"Name": "Parent Co"})
        child = sf.create("Account", {"Name": "Child Co", "ParentId": parent})
        grandchild = sf.create("Account", {"Name": "Grandchild Co", "ParentId": child})
        fillers = [{"Name": f"Filler {n}"} for n in range(PAGE)]
        assert all(r.success for r in sf.create_collection("Account", fillers))
        # Touched last, so they are read last (ORDER BY SystemModstamp): the parent on
        # a later page than its child, the child after its own child.
        sf.update("Account", child, {"Description": "touched"})
        sf.update("Account", parent, {"Description": "touched"})
    summary = sync_world.run(options=sync_world.options(page_size=PAGE))
    assert summary.status == "succeeded", summary.error

    orgs = {r.data["name"]: r for r in sync_world.records("organization")}
    assert len(orgs) == PAGE + 3
    assert orgs["Child Co"].data["parent_id"] == orgs["Parent Co"].id
    assert orgs["Grandchild Co"].data["parent_id"] == orgs["Child Co"].id
    assert orgs["Grandchild Co"].salesforce_id == grandchild
    with sync_world.session_factory() as session:
        left = session.scalars(
            sa.select(SyncFailure.error_message).where(
                SyncFailure.tenant_id == sync_world.tenant_id, SyncFailure.status != "resolved"
            )
        ).all()
    assert left == []


def test_children_read_before_their_parent_are_read_again_a_thousand_per_call(
    sync_world: SyncWorld,
) -> None:
    sync_world.install()
    with sync_world.salesforce() as sf:
        parent = sf.create("Account", {"Name": "Parent Co"})
        children = [{"Name": f"Child {n}", "ParentId": parent} for n in range(1_600)]
        assert all(r.success for r in sf.create_collection("Account", children))
        sf.update("Account", parent, {"Description": "touched"})  # read last
    sync_world.calls(reset=True)
    # Pages of 500: the 1,500 children on the first three pages wait for the parent.
    summary = sync_world.run(options=sync_world.options(page_size=500))
    assert summary.status == "succeeded", summary.error
    orgs = sync_world.records("organization")
    parent_id = next(r.id for r in orgs if r.data["name"] == "Parent Co")
    assert sum(1 for r in orgs if r.data.get("parent_id") == parent_id) == 1_600
    calls = sync_world.calls()["by_resource"]
    # The 1,500 waiting children are read again in one composite call per 1,000 ids
    # (five queries of 200 ids each), not in eight queries.
    assert calls.get("composite") == 2, calls
    assert calls.get("query", 0) == 0, calls
    assert calls.get("queryAll") == 4 + 1, calls  # Accounts in 4 pages, Contacts in 1

"""Support for the crash-safety campaign (R-S10): two identical worlds, one scenario.

A *world* is one emulated Salesforce org (its own data directory, served over HTTPS)
plus one crmbridge database (SQLite file or a fresh PostgreSQL database, migrated with
Alembic) holding a tenant connected to that org with the password flow and the default
organization ↔ Account and member ↔ Contact mappings.

The *scenario* is deterministic for a seed: a baseline of records on both sides, one
uninterrupted sync that pairs them, then a set of changes on both sides (creates,
updates, deletes, edits of different fields of one record on both sides, same-field
conflicts, delete-versus-edit conflicts). Records carry natural keys that never change
(members and Contacts their e-mail, organizations and Accounts their name), so two
worlds can be compared even though their ids differ.

Reading and checking a world's two sides is in ``crash_checks.py``.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmbridge.config import Settings
from crmbridge.connections.consent import org_settings
from crmbridge.connections.testing import api_trusting
from crmbridge.domain.entities import get_entity_type
from crmbridge.emulator.server import EmulatorServer
from crmbridge.mappings.testing import FAST_RETRY, emulator_client
from crmbridge.services import records as records_service
from crmbridge.store import migrate
from crmbridge.store.db import create_db_engine, create_session_factory
from crmbridge.store.models import Record
from crmbridge.store.repositories import records as records_repo
from crmbridge.store.repositories.change_log import ChangeContext
from crmbridge.store.testing import empty_database
from crmbridge.sync.context import RunOptions
from crmbridge.sync.runs import RunKind, RunRequest, RunSummary, run_sync
from crmbridge.web.testing import TEST_SECRET_KEY

#: Member ↔ Contact fields the scenario edits and compares (platform name, Salesforce name).
MEMBER_FIELDS = (
    ("first_name", "FirstName"),
    ("last_name", "LastName"),
    ("phone", "Phone"),
    ("mobile_phone", "MobilePhone"),
    ("title", "Title"),
    ("city", "MailingCity"),
)
#: Organization ↔ Account fields the scenario edits and compares.
ORGANIZATION_FIELDS = (
    ("phone", "Phone"),
    ("website", "Website"),
    ("description", "Description"),
    ("billing_city", "BillingCity"),
)
_CONTEXT = ChangeContext(source="api", origin="crash-campaign", actor="test")


@dataclass(frozen=True, kw_only=True)
class ScenarioSize:
    """How many records the scenario touches (per side unless said otherwise)."""

    #: Baseline organizations/Accounts made on each side before the first sync.
    baseline_orgs: int = 40
    #: Baseline members/Contacts made on each side before the first sync.
    baseline_people: int = 1_200
    #: After the first sync, on each side: new members/Contacts …
    creates: int = 1_300
    #: … new organizations/Accounts …
    org_creates: int = 40
    #: … updated members/Contacts (one field of the side's own set) …
    updates: int = 900
    #: … deleted members/Contacts …
    deletes: int = 260
    #: … of the updated records, this many are also edited on the other side (other field).
    both_sides_other_field: int = 150
    #: … this many get the same field edited differently on both sides …
    same_field_conflicts: int = 20
    #: … and this many are deleted on one side while edited on the other (each way).
    delete_edit_conflicts: int = 5

    def changes_per_side(self) -> int:
        """Records changed on each side after the first sync."""
        return self.creates + self.org_creates + self.updates + self.deletes


@dataclass
class World:
    """One emulated org plus one crmbridge database with a connected tenant."""

    name: str
    info: dict[str, Any]
    database_url: str
    tenant_id: str
    session_factory: sessionmaker[Session]
    settings: Settings
    directory: Path
    mapping_ids: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """Environment of a ``crmbridge`` subprocess working on this world."""
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "CRMBRIDGE_SECRET_KEY": TEST_SECRET_KEY,
                "SALESFORCE_CA_BUNDLE": self.info["ca_cert"],
                "CRMBRIDGE_DATA_DIR": str(self.directory / "crmbridge-data"),
                "CRMBRIDGE_LOG_LEVEL": "WARNING",
            }
        )
        return env

    def run(self) -> RunSummary:
        """One uninterrupted sync run, in this process."""
        return run_sync(
            self.session_factory,
            self.settings,
            self.tenant_id,
            request=RunRequest(kind=RunKind.NOW, trigger="test", requested_by="test"),
            options=RunOptions(client_retry=FAST_RETRY, sleep=lambda _s: None),
        )

    @contextmanager
    def salesforce(self) -> Iterator[Any]:
        """A Salesforce client on the world's org (its own session)."""
        with emulator_client(self.info) as client:
            yield client


@contextmanager
def open_world(directory: Path, name: str) -> Iterator[World]:
    """Start an emulated org and a migrated database, connect a tenant, install mappings.

    Conflicts: Salesforce wins for organizations (the tenant's policy), the platform
    wins for members (the mapping's own policy); deletes propagate both ways. Both
    policies are deterministic, so two worlds given the same edits end the same.
    The inbound look-back and safety margin are zero (see below).
    """
    home = directory / name
    home.mkdir(parents=True)
    with ExitStack() as stack:
        server = EmulatorServer(home / "org", port=0)
        server.start()
        stack.callback(server.stop)
        info = dict(server.info)
        url = stack.enter_context(empty_database(home))
        migrate.upgrade(url)
        engine = create_db_engine(url)
        stack.callback(engine.dispose)
        api = stack.enter_context(api_trusting(info, engine=engine, database_url=url))
        tenant_id = api.new_tenant(f"Crash {name}")
        headers = api.headers_for("CLIENT_ADMIN", tenant_id)

        def call(method: str, path: str, body: Any) -> Any:
            response = api.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        call("PATCH", "/api/v1/salesforce/settings", org_settings(info))
        call(
            "POST",
            "/api/v1/salesforce/password-login",
            {
                "username": info["username"],
                "password": info["password"],
                "security_token": info["security_token"],
            },
        )
        installed = call(
            "POST",
            "/api/v1/mappings/defaults/install",
            {
                "pairs": [
                    {"platform_entity": "organization", "salesforce_object": "Account"},
                    {"platform_entity": "member", "salesforce_object": "Contact"},
                ],
                "enabled": True,
            },
        )
        mapping_ids = {o["mapping"]["salesforce_object"]: o["mapping"]["id"] for o in installed}
        for sobject, policy in (("Account", None), ("Contact", "platform_wins")):
            call(
                "PATCH",
                f"/api/v1/mappings/{mapping_ids[sobject]}",
                {"delete_policy": "propagate", "conflict_policy": policy},
            )
        # No look-back and no safety margin: the watermark then moves with every page
        # (with the defaults each run re-reads the last six minutes, i.e. everything
        # here, and a watermark committed apart from its records would go unnoticed).
        # Nothing writes to the org during a sync but the sync itself, so no commit
        # lands late.
        call(
            "PUT",
            "/api/v1/sync/settings",
            {
                "conflict_policy": "salesforce_wins",
                "lookback_seconds": 0,
                "safety_margin_seconds": 0,
            },
        )
        yield World(
            name=name,
            info=info,
            database_url=url,
            tenant_id=tenant_id,
            session_factory=create_session_factory(engine),
            settings=api.app.state.settings,
            directory=home,
            mapping_ids=mapping_ids,
        )


# --- the scenario ------------------------------------------------------------------------


def _platform_id(seed: int, key: str) -> str:
    """A platform id derived from the key, the same in every world of one seed."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"crash-campaign/{seed}/{key}"))


def _person(rng: random.Random, n: int) -> dict[str, str]:
    return {
        "first_name": rng.choice(("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald")),
        "last_name": f"Person{n:05d}",
        "phone": f"+1 555 {rng.randrange(10**6):06d}",
        "title": rng.choice(("Member", "Organizer", "Treasurer", "Volunteer")),
        "city": rng.choice(("Lyon", "Porto", "Gent", "Turku", "Graz")),
    }


def _contact_values(values: dict[str, str]) -> dict[str, Any]:
    names = dict(MEMBER_FIELDS)
    return {names[k]: v for k, v in values.items()}


class Scenario:
    """The deterministic edits of one seed, applied identically to any world."""

    def __init__(self, seed: int, size: ScenarioSize) -> None:
        self.seed = seed
        self.size = size

    # --- baseline -----------------------------------------------------------------------

    def seed_baseline(self, world: World) -> None:
        """Records on both sides before the first sync (paired by that sync)."""
        rng = random.Random(self.seed)
        size = self.size
        orgs = [f"Org {i:04d}" for i in range(size.baseline_orgs)]
        with world.session_factory.begin() as session:
            for name in orgs:
                self._create(session, world, "organization", name, {"name": name})
            for i in range(size.baseline_people):
                key = f"m{i:05d}@crash.example.org"
                values: dict[str, Any] = {**_person(rng, i), "email": key}
                if i % 3 == 0:
                    values["company"] = orgs[i % len(orgs)]
                self._create(session, world, "member", key, values)
        accounts = [f"Account {i:04d}" for i in range(size.baseline_orgs)]
        with world.salesforce() as sf:
            results = sf.create_collection("Account", [{"Name": n} for n in accounts])
            account_ids = [r.id for r in results]
            contacts = []
            for i in range(size.baseline_people):
                values = {
                    **_contact_values(_person(rng, 50_000 + i)),
                    "Email": f"c{i:05d}@crash.example.org",
                }
                if i % 2 == 0:
                    values["AccountId"] = account_ids[i % len(account_ids)]
                contacts.append(values)
            assert all(r.success for r in sf.create_collection("Contact", contacts))

    def _create(
        self, session: Session, world: World, entity: str, key: str, values: dict[str, Any]
    ) -> None:
        records_service.create_record(
            session,
            tenant_id=world.tenant_id,
            entity=get_entity_type(entity),
            payload=values,
            context=_CONTEXT,
            record_id=_platform_id(self.seed, key),
        )

    # --- changes after the first sync -------------------------------------------------------

    def apply_changes(self, world: World) -> None:
        """Creates, updates, deletes and conflicts on both sides (after the first sync)."""
        rng = random.Random(self.seed + 1)
        size = self.size
        members = [f"m{i:05d}@crash.example.org" for i in range(size.baseline_people)]
        contacts = [f"c{i:05d}@crash.example.org" for i in range(size.baseline_people)]
        # Each side edits records of both origins: the baseline's two halves.
        people = members + contacts
        rng.shuffle(people)
        cursor = 0

        def take(n: int) -> list[str]:
            nonlocal cursor
            chosen = people[cursor : cursor + n]
            cursor += n
            assert len(chosen) == n, "the baseline is too small for the scenario"
            return chosen

        platform_updates = take(size.updates)
        salesforce_updates = take(size.updates)
        platform_deletes = take(size.deletes)
        salesforce_deletes = take(size.deletes)
        both = platform_updates[: size.both_sides_other_field]
        conflicts = platform_updates[
            size.both_sides_other_field : size.both_sides_other_field + size.same_field_conflicts
        ]
        n = size.delete_edit_conflicts
        # Deleted on the platform, edited in Salesforce (and the other way round).
        deleted_here_edited_there = platform_deletes[:n]
        deleted_there_edited_here = salesforce_deletes[:n]

        platform_edits: dict[str, dict[str, Any]] = {}
        salesforce_edits: dict[str, dict[str, Any]] = {}
        for key in platform_updates + deleted_there_edited_here:
            platform_edits[key] = {"phone": f"+44 20 {rng.randrange(10**6):06d}"}
        for key in salesforce_updates + deleted_here_edited_there:
            salesforce_edits[key] = {"Title": f"Title {rng.randrange(10**4)}"}
        for key in both:
            salesforce_edits[key] = {"MobilePhone": f"+33 1 {rng.randrange(10**6):06d}"}
        for key in conflicts:
            platform_edits[key] = {"title": f"Platform title {rng.randrange(10**4)}"}
            salesforce_edits[key] = {"Title": f"Salesforce title {rng.randrange(10**4)}"}

        new_orgs = [f"New org {i:04d}" for i in range(size.org_creates)]
        new_accounts = [f"New account {i:04d}" for i in range(size.org_creates)]
        org_edits = {f"Org {i:04d}": {"website": f"https://org{i}.example"} for i in range(10)}
        account_edits = {f"Account {i:04d}": {"Description": f"Edited {i}"} for i in range(5, 15)}

        self._platform_side(world, rng, platform_edits, platform_deletes, new_orgs, org_edits)
        self._salesforce_side(
            world, rng, salesforce_edits, salesforce_deletes, new_accounts, account_edits
        )

    def _platform_side(
        self,
        world: World,
        rng: random.Random,
        edits: dict[str, dict[str, Any]],
        deletes: Sequence[str],
        new_orgs: Sequence[str],
        org_edits: dict[str, dict[str, Any]],
    ) -> None:
        size = self.size
        ids = _platform_ids_by_key(world)
        with world.session_factory.begin() as session:
            for name in new_orgs:
                self._create(session, world, "organization", name, {"name": name})
            for name, values in org_edits.items():
                self._update(session, world, "organization", ids[name], values)
            for i in range(size.creates):
                key = f"new-m{i:05d}@crash.example.org"
                values: dict[str, Any] = {**_person(rng, 100_000 + i), "email": key}
                if i % 4 == 0:
                    values["company"] = new_orgs[i % len(new_orgs)]
                self._create(session, world, "member", key, values)
            for key, values in edits.items():
                self._update(session, world, "member", ids[key], values)
            for key in deletes:
                records_service.delete_record(
                    session,
                    tenant_id=world.tenant_id,
                    entity=get_entity_type("member"),
                    record_id=ids[key],
                    context=_CONTEXT,
                )

    def _update(
        self, session: Session, world: World, entity: str, record_id: str, values: dict[str, Any]
    ) -> None:
        records_service.update_record(
            session,
            tenant_id=world.tenant_id,
            entity=get_entity_type(entity),
            record_id=record_id,
            payload=values,
            context=_CONTEXT,
        )

    def _salesforce_side(
        self,
        world: World,
        rng: random.Random,
        edits: dict[str, dict[str, Any]],
        deletes: Sequence[str],
        new_accounts: Sequence[str],
        account_edits: dict[str, dict[str, Any]],
    ) -> None:
        size = self.size
        with world.salesforce() as sf:
            contact_ids = {r["Email"]: r["Id"] for r in sf.query("SELECT Id, Email FROM Contact")}
            account_ids = {r["Name"]: r["Id"] for r in sf.query("SELECT Id, Name FROM Account")}
            created = sf.create_collection("Account", [{"Name": n} for n in new_accounts])
            assert all(r.success for r in created)
            fresh = [r.id for r in created]
            updates = [
                {"Id": account_ids[name], **values} for name, values in account_edits.items()
            ]
            assert all(r.success for r in sf.update_collection("Account", updates))
            contacts = []
            for i in range(size.creates):
                values = {
                    **_contact_values(_person(rng, 200_000 + i)),
                    "Email": f"new-c{i:05d}@crash.example.org",
                }
                if i % 3 == 0:
                    values["AccountId"] = fresh[i % len(fresh)]
                contacts.append(values)
            assert all(r.success for r in sf.create_collection("Contact", contacts))
            updates = [{"Id": contact_ids[key], **values} for key, values in edits.items()]
            assert all(r.success for r in sf.update_collection("Contact", updates))
            results = sf.delete_collection([contact_ids[key] for key in deletes])
            assert all(r.success for r in results)


def _platform_ids_by_key(world: World) -> dict[str, str]:
    """Live platform record ids by natural key (member e-mail, organization name)."""
    found: dict[str, str] = {}
    with world.session_factory() as session:
        for record in live_records(session, world, "member"):
            found[record.data["email"]] = record.id
        for record in live_records(session, world, "organization"):
            found[record.data["name"]] = record.id
    return found


def live_records(session: Session, world: World, entity: str) -> list[Record]:
    """Every live platform record of an entity in the world's tenant."""
    return records_repo.list_records(
        session, tenant_id=world.tenant_id, entity_type=entity, limit=1_000_000
    )

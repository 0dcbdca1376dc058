"""What the demo prints once it runs: addresses, logins and things to try."""

from __future__ import annotations

import shlex
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from crmbridge.demo.setup import DEMO_ADMIN_EMAIL
from crmbridge.demo.state import DemoState


def _sample_member(api: httpx.Client) -> dict[str, Any] | None:
    """A synced member to use in the examples."""
    response = api.get("/api/v1/members", params={"limit": 20})
    if response.status_code != 200:
        return None
    return next((m for m in response.json()["items"] if m.get("salesforce_id")), None)


def print_instructions(
    console: Console, *, state: DemoState, org: dict[str, Any], base_url: str, api: httpx.Client
) -> None:
    """Print the API address, the admin login, the API key and what to try."""
    with api:
        member = _sample_member(api)
    member_id = member["id"] if member else "<member id>"
    contact_id = member["salesforce_id"] if member else "<Contact id>"
    ca = shlex.quote(org["ca_cert"])
    org_url = org["instance_url"]
    read_token = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    soql = f"SELECT+Id,Title+FROM+Contact+WHERE+Id='{contact_id}'"
    token_request = (
        f"curl -s --cacert {ca} {org_url}/services/oauth2/token -d grant_type=password "
        f"-d client_id={org['client_id']} -d client_secret={org['client_secret']} "
        f"-d username={shlex.quote(org['username'])} "
        f"-d password={shlex.quote(org['password'] + org['security_token'])}"
    )
    lines = [
        "",
        "[bold green]crmbridge is running[/bold green]",
        f"  API            {base_url}/api/v1   (OpenAPI docs: {base_url}/api/v1/docs)",
        f"  Admin sign-in  {base_url}/login   {DEMO_ADMIN_EMAIL} / {state.admin_password}",
        f"  API key        {state.api_key}   (CLIENT_ADMIN of the demo tenant)",
        f"  Salesforce     emulated org {org_url}   user {org['username']} / {org['password']}",
        f"  Push receiver  {state.outbound_message_url}",
        "",
        "[bold]What to try[/bold] (in another terminal):",
        f"  export KEY={state.api_key} API={base_url}/api/v1",
        "  # list members (synced from the org's Contacts)",
        '  curl -s -H "Authorization: Bearer $KEY" "$API/members?limit=3"',
        "  # edit one: the change reaches Salesforce at the next sync (within a minute)",
        f"  curl -s -X PATCH -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' "
        f'-d \'{{"title": "Treasurer"}}\' "$API/members/{member_id}"',
        "  # watch it appear in the emulated org with a SOQL query",
        f"  TOKEN=$({token_request} | {read_token})",
        f'  curl -s --cacert {ca} -H "Authorization: Bearer $TOKEN" '
        f'"{org_url}/services/data/v{org["api_version"]}/query?q={soql}"',
        "  # edit it in the org: it arrives here by Outbound Message within seconds",
        f'  curl -s --cacert {ca} -X PATCH -H "Authorization: Bearer $TOKEN" '
        f"-H 'Content-Type: application/json' -d '{{\"Title\": \"Chair\"}}' "
        f'"{org_url}/services/data/v{org["api_version"]}/sobjects/Contact/{contact_id}"',
        f'  curl -s -H "Authorization: Bearer $KEY" "$API/members/{member_id}"',
        "  # the sync log, the runs, the pushed entries and what the scheduler does next",
        '  curl -s -H "Authorization: Bearer $KEY" "$API/sync/records?limit=5"',
        '  curl -s -H "Authorization: Bearer $KEY" "$API/sync/runs?limit=3"',
        '  curl -s -H "Authorization: Bearer $KEY" "$API/inbound/entries?limit=3"',
        '  curl -s -H "Authorization: Bearer $KEY" "$API/scheduler"',
        "",
    ]
    for line in lines:
        # Only the headings carry markup; commands are printed as they are.
        console.print(line if "[bold" in line else escape(line), soft_wrap=True)

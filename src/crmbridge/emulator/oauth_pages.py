"""The HTML of the OAuth login and consent pages.

Field and button ids follow Salesforce's own pages (``username``, ``password``,
``Login``, ``oaapprove``, ``oadeny``) so browser scripts written for Salesforce work here.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f3f3f3;margin:0}
main{max-width:380px;margin:60px auto;background:#fff;border:1px solid #d8dde6;
border-radius:4px;padding:28px}
h1{font-size:20px;margin:0 0 18px}label{display:block;margin:12px 0 4px;font-size:13px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;
border:1px solid #d8dde6;border-radius:4px}
button{margin-top:18px;padding:9px 16px;border-radius:4px;border:1px solid #0070d2;
background:#0070d2;color:#fff;font-size:14px;cursor:pointer}
button.secondary{background:#fff;color:#0070d2}
.error{color:#c23934;font-size:13px;margin-top:10px}
.scopes li{margin:4px 0}.org{color:#54698d;font-size:13px}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _hidden(params: Mapping[str, str]) -> str:
    return "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in params.items()
    )


def login_page(
    *, org_name: str, params: Mapping[str, str], error: str | None, username: str = ""
) -> str:
    """The login form (username and password; no security token for web logins)."""
    message = f"<p class='error' id='error'>{escape(error)}</p>" if error else ""
    return _page(
        "Login | crmbridge emulated org",
        f"<h1>Log in</h1><p class='org'>{escape(org_name)}</p>"
        "<form method='post' action='/services/oauth2/authorize' id='login_form'>"
        f"{_hidden(params)}"
        "<label for='username'>Username</label>"
        f"<input type='text' id='username' name='username' value='{escape(username)}' "
        "autocomplete='username' required>"
        "<label for='password'>Password</label>"
        "<input type='password' id='password' name='pw' autocomplete='current-password' required>"
        "<button type='submit' id='Login' name='action' value='login'>Log In</button>"
        f"{message}</form>",
    )


def consent_page(
    *, org_name: str, app_name: str, username: str, scopes: list[str], params: Mapping[str, str]
) -> str:
    """The Allow / Deny page for a connected app's requested access."""
    items = "".join(f"<li>{escape(s)}</li>" for s in scopes)
    return _page(
        "Allow Access? | crmbridge emulated org",
        f"<h1>Allow Access?</h1><p><strong>{escape(app_name)}</strong> is asking to access "
        f"your data as <strong>{escape(username)}</strong> in {escape(org_name)}:</p>"
        f"<ul class='scopes'>{items}</ul>"
        "<form method='post' action='/services/oauth2/authorize' id='consent_form'>"
        f"{_hidden(params)}"
        "<button type='submit' id='oaapprove' name='action' value='allow'>Allow</button> "
        "<button type='submit' id='oadeny' class='secondary' name='action' value='deny'>"
        "Deny</button></form>",
    )


def error_page(*, error: str, description: str) -> str:
    """An authorization error that cannot be redirected (unknown app, bad redirect_uri)."""
    return _page(
        "OAuth Error | crmbridge emulated org",
        f"<h1>OAuth Error</h1><p class='error' id='error'>error={escape(error)}</p>"
        f"<p>{escape(description)}</p>",
    )

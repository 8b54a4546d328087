"""/link: the verification page of RFC 8628. A hub shows a code and this address; the user signs in
here, checks the code and approves (or declines) the hub. Server-rendered, no script: it works in
any browser, and the strict CSP below leaves nothing to inject into."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from cloud.auth import logic
from cloud.auth.router import _bootstrap_limit
from cloud.common.db import SessionDep
from cloud.common.errors import ApiError

router = APIRouter(tags=["auth"], include_in_schema=False)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;justify-content:center;background:#f4f5f7;color:#1b1f24}
main{background:#fff;margin:2rem 1rem;padding:1.5rem;border-radius:12px;max-width:24rem;width:100%;
box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 .5rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{width:100%;box-sizing:border-box;font-size:1rem;padding:.55rem;border:1px solid #99a;border-radius:8px}
#user_code{font:600 1.3rem ui-monospace,monospace;letter-spacing:.15em;text-transform:uppercase}
.row{display:flex;gap:.6rem;margin-top:1.2rem}
button{flex:1;font-size:1rem;padding:.65rem;border-radius:8px;border:0;cursor:pointer}
.ok{background:#1f6feb;color:#fff}.no{background:#e6e8eb;color:#1b1f24}
.msg{padding:.6rem .8rem;border-radius:8px;margin:.8rem 0}.err{background:#fde8e8;color:#8a1c1c}
.done{background:#e6f4ea;color:#14532d}
@media (prefers-color-scheme:dark){body{background:#111418;color:#e6e8eb}main{background:#1b1f24}
input{background:#111418;color:#e6e8eb;border-color:#556}.no{background:#2d333b;color:#e6e8eb}}
"""


def page(title: str, content: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · Companion</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f"<body><main>{content}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def form(code: str = "", email: str = "", error: str = "") -> str:
    alert = f'<p class="msg err" role="alert" id="error">{escape(error)}</p>' if error else ""
    return f"""<h1>Link a hub</h1>
<p>Enter the code your hub shows, sign in, and approve it to use your account.</p>{alert}
<form method="post" action="link">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="{escape(code)}" required maxlength="16" autocomplete="one-time-code"
 placeholder="ABCD-EFGH" autocapitalize="characters" spellcheck="false">
<label for="email">Email</label>
<input id="email" name="email" type="email" value="{escape(email)}" required maxlength="254" autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" required maxlength="256" autocomplete="current-password">
<div class="row"><button class="ok" id="approve" name="decision" value="approve">Approve</button>
<button class="no" id="deny" name="decision" value="deny" formnovalidate>Decline</button></div>
</form>"""


@router.get("/link", response_class=HTMLResponse, summary="Approve a hub: the verification URI of RFC 8628")
async def link_form(code: Annotated[str, Query(max_length=16)] = "") -> HTMLResponse:
    return page("Link a hub", form(code=code))


@router.post("/link", response_class=HTMLResponse)
async def link_decide(
    request: Request,
    session: SessionDep,
    user_code: Annotated[str, Form(max_length=16)],
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    decision: Annotated[str, Form(max_length=16)] = "approve",
) -> HTMLResponse:
    await _bootstrap_limit(request, "link")
    try:
        user = await logic.authenticate(session, email, password)
        grant = await logic.decide_device_grant(session, user.id, user_code, decision != "deny")
    except ApiError as err:
        message = "Wrong email or password." if err.code == "INVALID_GRANT" else err.message.capitalize() + "."
        return page("Link a hub", form(code=user_code, email=email, error=message), status=err.status)
    name = escape(grant.client_name or grant.client_id)
    if grant.status == "approved":
        text = f"<h1>Hub linked</h1><p class='msg done' id='result'>Approved: <b>{name}</b> can now use your account."
    else:
        text = f"<h1>Declined</h1><p class='msg done' id='result'>You declined <b>{name}</b>; it was not linked."
    return page("Link a hub", text + " You can close this page.</p>")

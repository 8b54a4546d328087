"""auth: accounts, tokens, API keys, device identities, and the device authorization grant (RFC 8628)
with its approval page."""

from fastapi import APIRouter

from cloud.auth import keys, link_page
from cloud.auth.router import router as auth_router
from cloud.common.service import Service

router = APIRouter()
for part in (auth_router, keys.router, link_page.router):
    router.include_router(part)

service = Service("auth", router)

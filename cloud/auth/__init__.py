"""auth: accounts, tokens, device identities, and the device authorization grant (RFC 8628)."""

from cloud.auth.router import router
from cloud.common.service import Service

service = Service("auth", router)

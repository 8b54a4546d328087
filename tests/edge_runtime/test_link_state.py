"""Linking to a cloud account is a small typed state machine (edge_runtime.api.link_state)."""

from __future__ import annotations

from edge_runtime.api.link_state import LinkProgress


def test_link_states_and_what_get_link_shows_of_each() -> None:
    link = LinkProgress()
    assert link.settled and link.status is None
    grant = {"user_code": "ABCD-EFGH", "verification_uri": "https://c/link", "device_code": "secret", "interval": 5}
    pending = link.start("https://c", grant).to_dict()
    assert pending == {
        "state": "pending",
        "cloud_url": "https://c",
        "user_code": "ABCD-EFGH",
        "verification_uri": "https://c/link",
        "interval": 5,
    }  # the device code stays on the hub
    assert not link.settled
    link.failed("https://c", "LINK_DENIED", "the user said no")
    assert link.status is not None and link.status.to_dict()["state"] == "denied"
    link.failed("https://c", "LINK_FAILED", "garbled")
    assert link.status is not None and link.status.state == "error" and link.status.error == "LINK_FAILED"
    link.linked("https://c", "dev-1")
    assert link.settled and link.status is not None and link.status.device_id == "dev-1"
    link.unlinked()
    assert link.status is not None and link.status.to_dict() == {"state": "unlinked"}

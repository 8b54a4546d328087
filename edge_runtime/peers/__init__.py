"""Several hubs in one home: a shared home key, wake arbitration, announcements (issue #21)."""

from edge_runtime.peers.arbiter import Arbiter, Verdict
from edge_runtime.peers.home import Home, HomeError, home_file, join_home, load_home, read_home
from edge_runtime.peers.link import Peer, PeerLink
from edge_runtime.peers.service import HomePeers, same_room
from edge_runtime.peers.wire import Announce, Claim, Kind, PeerError, Status, Stop, Taken

__all__ = [
    "Announce",
    "Arbiter",
    "Claim",
    "Home",
    "HomeError",
    "HomePeers",
    "Kind",
    "Peer",
    "PeerError",
    "PeerLink",
    "Status",
    "Stop",
    "Taken",
    "Verdict",
    "home_file",
    "join_home",
    "load_home",
    "read_home",
    "same_room",
]

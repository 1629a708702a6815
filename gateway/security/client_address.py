"""The address a connection comes from: the peer's, or the client's that a trusted proxy in front forwarded."""

import ipaddress
from collections.abc import Iterable

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "X-Forwarded-For"
# Hops read from the right of X-Forwarded-For at most: more proxies than this in front would be a misconfiguration.
_MOST_HOPS = 8


def trusted_networks(networks: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def client_address(request: web.BaseRequest, trusted: tuple[Network, ...]) -> str:
    """The rightmost X-Forwarded-For hop that is not a trusted proxy, when the peer is one; else the peer.

    Proxies append the address they saw, so the hops left of that one are the client's own say and may be forged."""
    peer = request.remote or "unknown"
    if not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in request.headers.getall(FORWARDED_FOR, ()) for hop in header.split(",")]
    for hop in reversed(hops[-_MOST_HOPS:]):
        if not _trusted(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True

"""The client's address behind trusted reverse proxies: X-Forwarded-For believed only from them, as `request.remote`."""

import ipaddress
from collections.abc import Sequence

from aiohttp import hdrs, web

from gateway.middleware import Handler, Middleware

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str | None) -> IPAddress | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def forwarded_client(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str | None:
    """The client a request came from: the TCP peer, unless the peer is a trusted proxy; then, walking
    X-Forwarded-For from the right (each proxy appends the address it was reached from), the first hop that is
    not a trusted proxy. Hops to the left of it are whatever the client wrote, so they are never read. A garbled
    hop stops the walk at the last proxy that could be named."""
    if not trusted:
        return peer  # nothing to believe a header from: the peer, without parsing it
    client = _address(peer)
    if client is None or not any(client in network for network in trusted):
        return peer
    # Several X-Forwarded-For lines are one list, in order (RFC 9110, 5.3).
    hops = [hop for line in forwarded_for for hop in line.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not any(address in network for network in trusted):
            break
    return str(client)


def trusted_networks(trusted_proxies: Sequence[str]) -> list[IPNetwork]:
    """The configured proxies (addresses or CIDR blocks) as networks."""
    return [ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies]


def client_address_middleware(trusted_proxies: Sequence[str]) -> Middleware:
    """Set `request.remote` to the client behind the configured proxies, for everything that reads it (rate limits,
    the audit log, the M-Pesa source check); with no trusted proxy configured the header is ignored."""
    trusted = trusted_networks(trusted_proxies)

    @web.middleware
    async def client_address(request: web.Request, handler: Handler) -> web.StreamResponse:
        if trusted:
            client = forwarded_client(request.remote, request.headers.getall(hdrs.X_FORWARDED_FOR, []), trusted)
            if client != request.remote:
                request = request.clone(remote=client)
        return await handler(request)

    return client_address

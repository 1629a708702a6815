"""Fetching a feed a host named: only from public addresses (checked after every redirect, and the connection pinned
to the address checked), conditionally, within a time and a size limit."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from gateway.settings import CalendarSettings

REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}


class FeedRefused(Exception):
    """The feed could not be read, or was refused; the message is what the host sees as the feed's last error."""


@dataclass(frozen=True)
class FetchedFeed:
    body: bytes
    etag: str | None
    last_modified: str | None


async def fetch_feed(
    http: httpx.AsyncClient, url: str, settings: CalendarSettings, *, etag: str | None, last_modified: str | None
) -> FetchedFeed | None:
    """The feed's body, or None when it has not changed since `etag` / `last_modified`."""
    # Uncompressed, so the size limit counts what is parsed: a small compressed body cannot expand past it.
    headers = {"Accept": "text/calendar, */*;q=0.5", "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(settings.fetch_timeout_s):
            return await _follow(http, httpx.URL(url), headers, settings)
    except TimeoutError:
        raise FeedRefused(f"no complete answer within {settings.fetch_timeout_s:g} s") from None
    except httpx.HTTPError as error:
        raise FeedRefused(f"could not fetch the feed: {type(error).__name__}") from None


async def _follow(
    http: httpx.AsyncClient, url: httpx.URL, headers: dict[str, str], settings: CalendarSettings
) -> FetchedFeed | None:
    for _ in range(settings.max_redirects + 1):
        request = await _pinned_request(http, url, headers, settings)
        response = await http.send(request, stream=True)
        try:
            if response.status_code in REDIRECTS and "location" in response.headers:
                url = url.join(response.headers["location"])
                continue
            if response.status_code == 304:
                return None
            if response.status_code != 200:
                raise FeedRefused(f"the feed answered HTTP {response.status_code}")
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise FeedRefused("the feed came compressed though it was asked for plainly")
            return FetchedFeed(
                await _read_limited(response, settings.max_feed_bytes),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
        finally:
            await response.aclose()
    raise FeedRefused(f"more than {settings.max_redirects} redirects")


async def _pinned_request(
    http: httpx.AsyncClient, url: httpx.URL, headers: dict[str, str], settings: CalendarSettings
) -> httpx.Request:
    """A request to the address `url`'s host resolves to, once that address is checked: resolving again when
    connecting would let a name that changes between the two (DNS rebinding) reach an internal address."""
    if url.scheme not in DEFAULT_PORTS or not url.host:
        raise FeedRefused("the feed must be an http or https URL")
    port = url.port or DEFAULT_PORTS[url.scheme]
    address = await _checked_address(url.host, port, settings.allow_private_addresses)
    host_header = url.host if url.port is None else f"{url.host}:{url.port}"
    # TLS still names and verifies the host it was asked for.
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    return http.build_request(
        "GET", url.copy_with(host=address), headers={**headers, "Host": host_header}, extensions=extensions
    )


async def _checked_address(host: str, port: int, allow_private: bool) -> str:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise FeedRefused(f"the feed's host {host[:80]} does not resolve") from None
    addresses = [_unmapped(ipaddress.ip_address(info[4][0].split("%")[0])) for info in found]
    if not addresses:
        raise FeedRefused(f"the feed's host {host[:80]} does not resolve")
    # Every address the name has must be public: the connection goes to the first, but a check of only that one
    # would pass a name whose other addresses are internal.
    if not allow_private and any(not address.is_global or address.is_multicast for address in addresses):
        raise FeedRefused("the feed's address is private, loopback or link-local: only public addresses are fetched")
    return str(addresses[0])


def _unmapped(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """::ffff:127.0.0.1 is 127.0.0.1 to the network; judged as IPv6 it would pass as public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FeedRefused(f"the feed is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise FeedRefused(f"the feed is larger than {max_bytes} bytes")
    return bytes(body)

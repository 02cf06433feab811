"""The address a request came from, for sign-in lock-out and the audit trail.

Without a proxy it is the connection's own address (`REMOTE_ADDR`). Behind a reverse proxy every
connection comes from the proxy, so lock-out would count all clients as one (five bad passwords
from anyone would lock a user out for everyone) and the audit trail would name the proxy. The
proxy says who its client was in `X-Forwarded-For`, which it appends to; anything to the left of
what the trusted proxies appended was written by the client and proves nothing.

So the header is read only when the connection comes from an address in `TRUSTED_PROXIES`
(addresses or networks, e.g. `10.0.0.5,10.1.0.0/16`), and from its right-hand end: proxies in
`TRUSTED_PROXIES` are skipped and the first address that is not one of them is the client. This
is django-axes' `AXES_CLIENT_IP_CALLABLE` (its documented hook for proxies): unlike
django-ipware's defaults it never trusts a header that did not come through a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as text, or None when the request has none."""
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    trusted = trusted_proxies(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not _is_trusted(remote, trusted):
        return str(remote)
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Not an address: the trusted proxy did not write this, so nothing to its left
            # can be believed either. The client is the last proxy that spoke to us.
            break
        if not _is_trusted(address, trusted):
            return str(address)
        remote = address
    return str(remote)


@lru_cache(maxsize=8)
def trusted_proxies(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of `TRUSTED_PROXIES`; ValueError names an entry that is not one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not an address or network") from error
    return tuple(networks)


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address in network for network in trusted)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.9:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address

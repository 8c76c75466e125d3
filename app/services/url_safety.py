"""Webhook URL safety (DESIGN.md §7): the service must not be turned into a probe of its own
network.

A URL must be ``https`` (``http`` only when allowed) and every address its host resolves to must
be public. Loopback, private, shared (100.64/10), unique-local and other non-global addresses
pass only when they lie in an allow-listed network; link-local addresses and the cloud metadata
endpoints are refused always, allow-list or not. Checked at registration and again at send
time, and the send connects to the very address that was checked (no second resolution).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba Cloud).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class Refusal(StrEnum):
    """Why a URL may not receive webhooks, as a code (the console words each one plainly)."""

    CONTROL_CHARACTER = "control_character"
    MALFORMED = "malformed"
    SCHEME = "scheme"
    HTTP = "http"
    CREDENTIALS = "credentials"
    NO_HOST = "no_host"
    FRAGMENT = "fragment"
    UNRESOLVED = "unresolved"
    METADATA = "metadata"
    LINK_LOCAL = "link_local"
    NOT_UNICAST = "not_unicast"
    NOT_PUBLIC = "not_public"


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why, in words an admin can act on,
    ``reason`` as a code and ``host`` the host it names (when it got that far)."""

    def __init__(self, message: str, reason: Refusal, host: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.host = host


@dataclass(frozen=True)
class AddressProblem:
    """Why one address may not receive webhooks: a :class:`Refusal` and the words for it."""

    reason: Refusal
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class SafeTarget:
    """A checked URL and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress


def parse_networks(text: str) -> list[IPNetwork]:
    """``SINERGI_WEBHOOK_ALLOWED_NETWORKS``: comma-separated CIDRs."""
    return [
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    ]


#: IPv6 prefixes whose last 32 bits are an IPv4 address a gateway or the host itself reaches:
#: IPv4-translated (RFC 2765), NAT64 well-known prefix (RFC 6052), IPv4-compatible (deprecated).
_IPV4_IN_LAST_32_BITS = tuple(
    ipaddress.ip_network(n) for n in ("::ffff:0:0:0/96", "64:ff9b::/96", "::/96")
)
#: Local-use NAT64 (RFC 8215): translated by a gateway of the operator's own network.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
#: Characters that may not appear in a webhook URL as typed: C0 controls, space and DEL.
_CONTROL_CHARACTERS = frozenset(chr(c) for c in [*range(0x21), 0x7F])


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and so reaches): IPv4-mapped, -translated,
    -compatible, NAT64, 6to4 and both ends of Teredo; empty for a plain IPv6 address."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        server, client = address.teredo
        return [server, client]
    if any(address in network for network in _IPV4_IN_LAST_32_BITS) and int(address) > 1:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def address_problem(address: IPAddress, allowed: Sequence[IPNetwork]) -> AddressProblem | None:
    """Why ``address`` may not receive webhooks, or ``None`` when it may.

    An IPv6 address that embeds an IPv4 one (NAT64 ``64:ff9b::a9fe:a9fe``, 6to4, Teredo,
    IPv4-mapped or -compatible) is judged by that IPv4 address too: it is where a gateway sends.
    """
    if isinstance(address, ipaddress.IPv6Address):
        for inner in embedded_ipv4(address):
            problem = address_problem(inner, allowed)
            if problem is not None:
                return AddressProblem(problem.reason, f"{address}, which embeds {problem}")
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return AddressProblem(Refusal.METADATA, f"{address} is a cloud metadata address")
    if address.is_link_local:
        return AddressProblem(Refusal.LINK_LOCAL, f"{address} is a link-local address")
    if address.is_global and not address.is_multicast and address not in _LOCAL_NAT64:
        return None
    if address.is_multicast or address.is_unspecified:
        return AddressProblem(Refusal.NOT_UNICAST, f"{address} is not a unicast address")
    if any(address.version == n.version and address in n for n in allowed):
        return None
    return AddressProblem(
        Refusal.NOT_PUBLIC,
        f"{address} is not a public address (loopback, private, shared or unique-local); "
        "allow its network in SINERGI_WEBHOOK_ALLOWED_NETWORKS to use it",
    )


def check_url_syntax(url: str, *, allow_http: bool) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a well-formed webhook URL, or :class:`UnsafeURL`.

    Control characters are refused rather than let ``urlsplit`` strip them silently: the stored
    URL would not be the one checked, and every delivery to it would fail.
    """
    if _CONTROL_CHARACTERS & set(url):
        raise UnsafeURL(
            "the URL contains a control character or space (percent-encode it, e.g. %20)",
            Refusal.CONTROL_CHARACTER,
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"not a valid URL: {exc}", Refusal.MALFORMED) from None
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        raise UnsafeURL("the URL must start with https://", Refusal.SCHEME)
    if scheme == "http" and not allow_http:
        raise UnsafeURL(
            "the URL must use https (http is allowed only with SINERGI_WEBHOOK_ALLOW_HTTP)",
            Refusal.HTTP,
        )
    if parts.username or parts.password:
        raise UnsafeURL("the URL must not carry credentials", Refusal.CREDENTIALS)
    if not parts.hostname:
        raise UnsafeURL("the URL has no host", Refusal.NO_HOST)
    if parts.fragment:
        raise UnsafeURL("the URL must not have a fragment", Refusal.FRAGMENT, parts.hostname)
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeURL(
            f"the host {host!r} does not resolve ({exc.strerror or exc})", Refusal.UNRESOLVED, host
        ) from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURL(f"the host {host!r} does not resolve", Refusal.UNRESOLVED, host)
    return addresses


async def check_webhook_url(url: str, *, allow_http: bool, allowed_networks: str) -> SafeTarget:
    """Check ``url`` now; every resolved address must be acceptable (one bad one refuses)."""
    scheme, host, port = check_url_syntax(url, allow_http=allow_http)
    allowed = parse_networks(allowed_networks)
    addresses = await resolve(host, port)
    for address in addresses:
        problem = address_problem(address, allowed)
        if problem is not None:
            raise UnsafeURL(f"the host {host!r} resolves to {problem}", problem.reason, host)
    return SafeTarget(url=url, scheme=scheme, host=host, port=port, address=addresses[0])

"""Webhook URL safety: scheme, credentials, and which addresses may receive webhooks."""

from __future__ import annotations

import ipaddress

import pytest

from app.services.url_safety import (
    UnsafeURL,
    address_problem,
    check_url_syntax,
    check_webhook_url,
    parse_networks,
)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "::1",
        "fd12::1",
        "0.0.0.0",  # noqa: S104  (an address under test, not a bind)
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str) -> None:
    assert address_problem(ip(address), []) is not None


def test_public_addresses_pass() -> None:
    assert address_problem(ip("8.8.8.8"), []) is None
    assert address_problem(ip("2001:4860:4860::8888"), []) is None


def test_allow_list_admits_private_networks_but_never_link_local_or_metadata() -> None:
    allowed = parse_networks("10.0.0.0/8, 127.0.0.0/8,169.254.0.0/16, fd00::/8")
    assert address_problem(ip("10.20.30.40"), allowed) is None
    assert address_problem(ip("127.0.0.1"), allowed) is None
    assert address_problem(ip("192.168.0.1"), allowed) is not None
    assert "link-local" in str(address_problem(ip("169.254.10.10"), allowed))
    assert "metadata" in str(address_problem(ip("169.254.169.254"), allowed))
    assert "metadata" in str(address_problem(ip("fd00:ec2::254"), allowed))
    assert "metadata" in str(
        address_problem(ip("100.100.100.200"), parse_networks("100.64.0.0/10"))
    )
    assert address_problem(ip("fe80::1"), parse_networks("fe80::/10")) is not None


def test_ipv4_mapped_ipv6_is_judged_as_ipv4() -> None:
    assert address_problem(ip("::ffff:127.0.0.1"), []) is not None
    assert "metadata" in str(address_problem(ip("::ffff:169.254.169.254"), []))


def test_syntax_https_only_unless_http_allowed() -> None:
    assert check_url_syntax("https://example.go.id/hook", allow_http=False) == (
        "https",
        "example.go.id",
        443,
    )
    with pytest.raises(UnsafeURL, match="https"):
        check_url_syntax("http://example.go.id/hook", allow_http=False)
    assert check_url_syntax("http://example.go.id:8080/h", allow_http=True) == (
        "http",
        "example.go.id",
        8080,
    )
    for bad in (
        "ftp://example.go.id/",
        "https://user:pw@example.go.id/",
        "https:///nohost",
        "https://h:99999/",
    ):
        with pytest.raises(UnsafeURL):
            check_url_syntax(bad, allow_http=True)


async def test_check_resolves_literal_addresses() -> None:
    with pytest.raises(UnsafeURL, match="not a public address"):
        await check_webhook_url("https://127.0.0.1/h", allow_http=False, allowed_networks="")
    target = await check_webhook_url(
        "http://127.0.0.1:9000/h", allow_http=True, allowed_networks="127.0.0.0/8"
    )
    assert str(target.address) == "127.0.0.1"
    assert target.port == 9000
    with pytest.raises(UnsafeURL, match="metadata"):
        await check_webhook_url(
            "http://169.254.169.254/latest", allow_http=True, allowed_networks="0.0.0.0/0"
        )


async def test_check_resolves_names_and_refuses_localhost() -> None:
    with pytest.raises(UnsafeURL):
        await check_webhook_url("https://localhost/h", allow_http=False, allowed_networks="")


async def test_the_send_connects_to_the_checked_address_and_keeps_the_host_name() -> None:
    import httpx

    from app.services.url_safety import SafeTarget
    from app.services.webhooks import pinned_request

    target = SafeTarget(
        url="https://hook.imigrasi.go.id:8443/in?x=1",
        scheme="https",
        host="hook.imigrasi.go.id",
        port=8443,
        address=ip("203.0.113.7"),
    )
    async with httpx.AsyncClient() as client:
        request = pinned_request(client, target, {"webhook-id": "msg_1"}, b"{}")
    assert request.url.host == "203.0.113.7"
    assert request.url.port == 8443
    assert request.url.path == "/in"
    assert request.url.query == b"x=1"
    assert request.headers["host"] == "hook.imigrasi.go.id:8443"
    assert request.extensions["sni_hostname"] == "hook.imigrasi.go.id"
    v6 = SafeTarget(
        url="http://[2001:db8::1]/h",
        scheme="http",
        host="2001:db8::1",
        port=80,
        address=ip("2001:db8::1"),
    )
    async with httpx.AsyncClient() as client:
        request = pinned_request(client, v6, {}, b"{}")
    assert request.url.host == "2001:db8::1"
    assert "sni_hostname" not in request.extensions


def test_an_ipv6_address_embedding_a_public_ipv4_passes() -> None:
    assert address_problem(ip("64:ff9b::808:808"), []) is None  # NAT64 of 8.8.8.8
    assert address_problem(ip("2002:808:808::1"), []) is None  # 6to4 of 8.8.8.8
    assert address_problem(ip("64:ff9b:1::808:808"), []) is not None  # local-use NAT64
    assert address_problem(ip("64:ff9b::a00:5"), parse_networks("10.0.0.0/8")) is None

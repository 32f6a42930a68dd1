"""The address of the client behind a request: proxy headers count only when the direct peer is a trusted proxy.

``COPILOT_TRUSTED_PROXIES`` lists the proxies (addresses or networks; loopback by default). From a trusted
peer, ``X-Forwarded-For`` and ``Forwarded`` (RFC 7239 ``for=``) are read from the right: each proxy appends
the address it saw, so the first address that is not a trusted proxy is the client. From any other peer
the headers are ignored (anyone can send them). A value that is not an IP address (``localhost``,
``unknown``, an obfuscated id) is kept as text, and text is never loopback. When both headers are present
and name different clients, the client is ``unknown``. ``copilot serve`` turns uvicorn's own proxy handling
off, so this is the one place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["MAX_HOPS", "UNKNOWN", "TrustedProxies", "client_host", "is_loopback"]

#: Addresses read from the right end of a header (a longer chain is cut: the client is among the last hops).
MAX_HOPS = 32
#: The client when the headers contradict each other.
UNKNOWN = "unknown"
#: Longest header value read (a longer one is cut before it is split).
_MAX_HEADER_CHARS = 4096

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose proxy headers are believed."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> TrustedProxies:
        """Comma-separated addresses or networks (``10.0.0.0/8``); ``ValueError`` names a bad entry."""
        networks: list[IPNetwork] = []
        for raw in (text or "").split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return cls(tuple(networks))

    def __contains__(self, host: object) -> bool:
        ip = _address(host) if isinstance(host, str) else None
        return ip is not None and any(ip.version == n.version and ip in n for n in self.networks)


def is_loopback(host: str | None) -> bool:
    """True for a loopback IP address (a name such as ``localhost`` is not trusted to be one)."""
    ip = _address(host) if host else None
    return ip is not None and ip.is_loopback


def _host_of(value: str) -> str:
    """``"[2001:db8::1]:443"`` -> ``2001:db8::1``; ``192.0.2.1:80`` -> ``192.0.2.1``; other text unchanged."""
    value = value.strip().strip('"').strip()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` values of an RFC 7239 ``Forwarded`` header, in order (an element without one is unknown)."""
    found: list[str] = []
    for element in value.split(","):
        host = UNKNOWN
        for pair in element.split(";"):
            name, _, content = pair.partition("=")
            if name.strip().lower() == "for":
                host = content
        found.append(host)
    return found


def _rightmost_untrusted(hops: Sequence[str], trusted: TrustedProxies) -> str | None:
    hosts = [_host_of(h) for h in hops[-MAX_HOPS:]]
    hosts = [h for h in hosts if h]
    if not hosts:
        return None
    for host in reversed(hosts):
        if host not in trusted:
            return host
    return hosts[0]  # every hop is a trusted proxy: the first one is the client


def _joined(values: Iterable[str]) -> str:
    return ",".join(values)[-_MAX_HEADER_CHARS:]  # the hops that count are on the right (proxies append)


def client_host(peer: str | None, headers: Mapping[str, str], trusted: TrustedProxies) -> str | None:
    """The client's address: ``peer`` itself, or from a trusted peer what its proxy headers say."""
    if peer is None or peer not in trusted:
        return peer
    getlist = getattr(headers, "getlist", None) or getattr(headers, "get_list", None)
    forwarded_for = list(getlist("x-forwarded-for")) if getlist else [headers.get("x-forwarded-for", "")]
    forwarded = list(getlist("forwarded")) if getlist else [headers.get("forwarded", "")]
    named = set()
    if any(v.strip() for v in forwarded_for):
        named.add(_rightmost_untrusted(_joined(forwarded_for).split(","), trusted))
    if any(v.strip() for v in forwarded):
        named.add(_rightmost_untrusted(_forwarded_for(_joined(forwarded)), trusted))
    named.discard(None)
    if not named:
        return peer
    if len(named) > 1:
        return UNKNOWN
    return named.pop()

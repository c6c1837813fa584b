"""Outbound HTTP requests made on a caller's behalf (``source_url`` fetches, webhook deliveries)
and the address policy they obey.

A caller chooses the URL, so every request goes through one gate: the host is resolved, every
address it resolves to is checked, and the connection is made to the checked address (the URL is
rewritten to the IP, ``Host`` and, for https, SNI and certificate checks keep the name), so a
second DNS answer cannot swap in another address. By default only public unicast addresses
pass: loopback, private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
multicast, reserved, unspecified and documentation ranges are refused, including their IPv6
forms (IPv4-mapped, NAT64, 6to4, Teredo) and the decimal/octal/hex IPv4 spellings (the resolver
turns those into addresses first). Redirects are followed here, hop by hop, each hop checked
the same way, at most :data:`MAX_REDIRECTS`.

The operator widens the policy with an allow-list (``LAMINA_OUTBOUND_ALLOW``): CIDR networks or
addresses (``10.0.0.0/8``, ``127.0.0.1``), host names (``docs.intranet``), name suffixes
(``*.corp.example``), or ``*`` for everything (the embedded mode, where the caller is the
operator). A proxy chosen by the caller (``http_proxy``) is refused unless the operator allows
it; then the proxy's own address is checked and the proxy resolves the target.

Error messages are the same whatever happened on the network (refused, reset, timed out), so
a caller cannot map ports; the detail goes to the server log.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("lamina.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_REDIRECTS = 5
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 4096

# Ranges that are never "public", beyond what ``ipaddress`` flags (it counts multicast and the
# NAT64 prefix as global).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_EXTRA_DENIED: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64
)


class OutboundDenied(Exception):
    """The URL, its address or the proxy is outside the operator's outbound policy."""


class OutboundError(Exception):
    """The request could not be made or answered in time (the message is safe to show)."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public(ip: IPAddress) -> bool:
    """True for a global unicast address (the only kind fetched without an allow-list entry)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the IPv4 address itself, reached over IPv6
            return is_public(ip.ipv4_mapped)
        inner = _embedded_ipv4(ip)
        if (inner is not None and not is_public(inner)) or ip.scope_id:
            return False
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
        or any(ip in net for net in _EXTRA_DENIED if net.version == ip.version)
    )


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an address when it is written as one (any IPv4 spelling the C resolver
    accepts: dotted, decimal ``2130706433``, octal, hex), else None."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if ":" in text or not text or not all(c.isalnum() or c == "." for c in text):
        return None
    try:  # inet_aton accepts the legacy forms; a name like "docs" raises
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


@dataclass(frozen=True)
class OutboundPolicy:
    """Which hosts and addresses outbound requests may reach.

    ``allow`` entries: ``*`` (everything), a network or address (``10.1.0.0/16``, ``::1``), a
    host name (``docs.intranet``) or a name suffix (``*.corp.example``). ``allow_caller_proxy``
    lets a request's ``http_proxy`` be used.
    """

    allow: tuple[str, ...] = ()
    allow_caller_proxy: bool = False
    _networks: tuple[IPNetwork, ...] = field(default=(), init=False, repr=False, compare=False)
    _names: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)
    _suffixes: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    _everything: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        suffixes: list[str] = []
        everything = False
        for raw in self.allow:
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                everything = True
                continue
            if entry.startswith("*."):
                suffixes.append(entry[1:])
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if not all(c.isalnum() or c in "-._" for c in entry):
                    raise ValueError(
                        f"Invalid outbound allow-list entry {raw!r}: use a network (10.0.0.0/8), "
                        "an address, a host name, *.suffix or *"
                    ) from None
                names.add(entry.rstrip("."))
        object.__setattr__(self, "_networks", tuple(networks))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_suffixes", tuple(suffixes))
        object.__setattr__(self, "_everything", everything)

    @property
    def allows_everything(self) -> bool:
        return self._everything

    def name_allowed(self, host: str) -> bool:
        """True when the operator admitted ``host`` by name (its addresses are then not checked)."""
        name = host.strip("[]").lower().rstrip(".")
        return (
            self._everything
            or name in self._names
            or any(name.endswith(suffix) for suffix in self._suffixes)
        )

    def address_allowed(self, ip: IPAddress) -> bool:
        if self._everything:
            return True
        if any(ip.version == net.version and ip in net for net in self._networks):
            return True
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            mapped = ip.ipv4_mapped
            if any(net.version == 4 and mapped in net for net in self._networks):
                return True
        return is_public(ip)

    def literal_denied(self, host: str) -> bool:
        """True when ``host`` is written as an address this policy refuses (checked at the door,
        without a DNS lookup; names are checked when the request is made)."""
        if self.name_allowed(host):
            return False
        ip = literal_address(host)
        return ip is not None and not self.address_allowed(ip)

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, all checked; raises :class:`OutboundDenied` when
        any of them is refused (a mixed answer is refused whole)."""
        addresses: list[IPAddress] = []
        try:
            infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            log.info("outbound: cannot resolve %r: %s", host, exc)
            raise OutboundError("the host name could not be resolved") from exc
        for info in infos:
            text = str(info[4][0])
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                continue
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise OutboundError("the host name could not be resolved")
        if not self.name_allowed(host):
            refused = [ip for ip in addresses if not self.address_allowed(ip)]
            if refused:
                log.warning("outbound: %r resolves to refused address(es) %s", host, refused)
                raise OutboundDenied(denied_message())
        return addresses

    def check_proxy(self, proxy: str | None) -> None:
        """Refuse a caller's proxy unless allowed; an allowed proxy must pass the address policy."""
        if not proxy:
            return
        if not self.allow_caller_proxy:
            raise OutboundDenied(
                "http_proxy is not allowed on this server (the operator can allow it with "
                "LAMINA_OUTBOUND_ALLOW_CALLER_PROXY=true)"
            )
        url = parse_url(proxy, what="http_proxy")
        self.resolve(url.host, url.port or DEFAULT_PORTS[url.scheme])


def denied_message() -> str:
    return (
        "the address is not allowed by this server's outbound policy (loopback, private, "
        "link-local and other non-public addresses are refused unless the operator lists them "
        "in LAMINA_OUTBOUND_ALLOW)"
    )


def parse_url(value: str, *, what: str = "URL") -> httpx.URL:
    """An absolute http(s) URL with a host, else :class:`ValueError` with a plain message."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or c == "\x7f" for c in value.strip()):
        raise ValueError(f"{what} must not contain spaces or control characters")
    try:
        url = httpx.URL(value.strip())
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ValueError(f"{what} is not a valid URL: {exc}") from None
    if url.scheme not in DEFAULT_PORTS:
        raise ValueError(f"{what} must be an http or https URL")
    if not url.host:
        raise ValueError(f"{what} must name a host")
    return url


def check_url_at_door(value: str, policy: OutboundPolicy, *, what: str = "URL") -> str:
    """Syntax and literal-address check of a caller's URL when a request is accepted.

    Raises :class:`ValueError` (a 422 for the caller). Names are resolved and checked later,
    when the request is made; an address written literally is judged now.
    """
    url = parse_url(value, what=what)
    if policy.literal_denied(url.host):
        raise ValueError(f"{what} is refused: {denied_message()}")
    return value.strip()


# --- making requests ---------------------------------------------------------------------------


@dataclass
class Deadline:
    """A total time budget for one outbound exchange (every hop, every read)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def check(self) -> None:
        if self.remaining <= 0:
            raise OutboundError(f"no complete answer within {self.seconds:g} s")

    def timeout(self, per_read: float) -> httpx.Timeout:
        left = max(self.remaining, 0.001)
        return httpx.Timeout(min(per_read, left), connect=min(10.0, left))


class OutboundClient:
    """Makes policy-checked requests; one instance may be shared by threads.

    ``transport`` is for tests that cannot reach a network; requests then still go through the
    address checks.
    """

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        user_agent: str = "lamina",
        per_read_timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self.user_agent = user_agent
        self.per_read_timeout = per_read_timeout
        self._transport = transport

    @contextmanager
    def stream(
        self,
        method: str,
        url: str,
        *,
        deadline: Deadline,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        proxy: str | None = None,
        follow_redirects: bool = False,
    ) -> Iterator[httpx.Response]:
        """The response to ``method url`` (body not read yet), every hop checked.

        Raises :class:`OutboundDenied` or :class:`OutboundError` (both with messages fit for a
        caller); a 3xx is returned as is when ``follow_redirects`` is off.
        """
        self.policy.check_proxy(proxy)
        current = parse_url(url)
        for _hop in range(MAX_REDIRECTS + 1):
            deadline.check()
            with self._client(proxy) as client:
                response = self._send(client, method, current, headers, content, proxy, deadline)
                try:
                    location = response.headers.get("location")
                    if follow_redirects and response.status_code in REDIRECT_CODES and location:
                        try:
                            current = parse_url(str(current.join(location)), what="redirect")
                        except ValueError as exc:
                            raise OutboundError(f"bad redirect: {exc}") from None
                        if response.status_code == 303 or (
                            response.status_code in (301, 302) and method == "POST"
                        ):
                            method, content = "GET", None
                        continue
                    yield response
                    return
                finally:
                    response.close()
        raise OutboundError(f"more than {MAX_REDIRECTS} redirects")

    def _client(self, proxy: str | None) -> httpx.Client:
        return httpx.Client(
            follow_redirects=False,
            trust_env=False,
            proxy=proxy or None,
            transport=self._transport,
        )

    def _send(
        self,
        client: httpx.Client,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        proxy: str | None,
        deadline: Deadline,
    ) -> httpx.Response:
        """One hop: resolve and check, then connect to the checked addresses in turn (pinned:
        the URL names the IP; ``Host``, SNI and the certificate check keep the name)."""
        base_headers = {"User-Agent": self.user_agent, **(headers or {})}
        timeout = deadline.timeout(self.per_read_timeout)
        if proxy:
            # The proxy resolves and connects; a literal refused address is still refused.
            if self.policy.literal_denied(url.host):
                raise OutboundDenied(denied_message())
            request = client.build_request(
                method, url, headers=base_headers, content=content, timeout=timeout
            )
            return self._try(client, request, url)
        port = url.port or DEFAULT_PORTS[url.scheme]
        addresses = self.policy.resolve(url.host, port)
        extensions: dict[str, Any] = {}
        if url.scheme == "https":
            extensions["sni_hostname"] = url.host
        for index, address in enumerate(addresses):
            request = client.build_request(
                method,
                url.copy_with(host=str(address)),
                headers={**base_headers, "Host": url.netloc.decode("ascii")},
                content=content,
                timeout=deadline.timeout(self.per_read_timeout),
                extensions=extensions,
            )
            try:
                return client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if index == len(addresses) - 1 or deadline.remaining <= 0:
                    log.info("outbound %s %s failed: %r", method, _safe(url), exc)
                    raise OutboundError(_network_message(exc)) from None
            except httpx.HTTPError as exc:
                log.info("outbound %s %s failed: %r", method, _safe(url), exc)
                raise OutboundError(_network_message(exc)) from None
        raise OutboundError("the host name could not be resolved")  # pragma: no cover

    @staticmethod
    def _try(client: httpx.Client, request: httpx.Request, url: httpx.URL) -> httpx.Response:
        try:
            return client.send(request, stream=True)
        except httpx.HTTPError as exc:
            log.info("outbound %s %s failed: %r", request.method, _safe(url), exc)
            raise OutboundError(_network_message(exc)) from None

    def read_body(
        self, response: httpx.Response, *, max_bytes: int, deadline: Deadline
    ) -> Iterable[bytes]:
        """The body in chunks; :class:`OutboundError` past ``max_bytes`` or the deadline."""
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise OutboundError(f"larger than the limit of {max_bytes} bytes")
                deadline.check()
                yield chunk
        except httpx.HTTPError as exc:
            log.info("outbound read of %s failed: %r", _safe(response.request.url), exc)
            raise OutboundError(_network_message(exc)) from None


def _network_message(_exc: httpx.HTTPError) -> str:
    """One message for every network failure (refused, reset, timed out, TLS): no port oracle."""
    return "the server could not be reached or did not answer in time"


def _safe(url: httpx.URL) -> str:
    return str(url.copy_with(query=None, fragment=None))

# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Parsing and matching of client addresses and networks.

The one place where both plugins turn text into addresses and networks and
decide which network an address belongs to. It needs only the standard
library, so importing it pulls in neither Nova nor Swift.

Normalisation, applied to every address and network alike so that they can
be compared:

* an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a server bound to
  ``::`` reports for an IPv4 client) is the IPv4 address it carries, and
  ``::ffff:192.0.2.0/120`` is ``192.0.2.0/24``;
* an IPv6 ``%scope`` suffix names an interface, not an address: it is
  dropped; ``[2001:db8::1]`` brackets are accepted;
* a network must be written with its host bits clear: ``10.1.2.3/16`` is
  refused (it would silently mean ``10.1.0.0/16``), a bare address is a
  single-host network.
"""

import bisect
import ipaddress
import socket

IPV4_MAPPED_PREFIX = 96  # ::ffff:0:0/96 carries the IPv4 address space


def _parse(text):
    """Return ``(address, was_ipv4_mapped)`` for *text*, or raise."""
    if not isinstance(text, str):
        raise ValueError('%r is not an IP address' % (text,))
    value = text.strip()
    if value.startswith('[') and value.endswith(']'):
        value = value[1:-1]
    value = value.partition('%')[0]
    try:
        address = _ip_address(value)
    except ValueError:
        raise ValueError('%r is not an IP address' % (text,)) from None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped, True
    return address, False


def _ip_address(value):
    """``ipaddress.ip_address(value)``, parsed by the C library when it can.

    A value the C library reads and writes back unchanged (the canonical
    spelling, which a server's REMOTE_ADDR always is) is the address of
    that number; anything else is left to ``ipaddress``, so what is
    accepted, and what it means, is exactly ``ipaddress``'s.
    """
    family = socket.AF_INET6 if ':' in value else socket.AF_INET
    try:
        packed = socket.inet_pton(family, value)
    except (OSError, ValueError):  # ValueError: not ASCII, or a NUL
        packed = None
    if packed is not None and socket.inet_ntop(family, packed) == value:
        number = int.from_bytes(packed, 'big')
        if family == socket.AF_INET:
            return ipaddress.IPv4Address(number)
        return ipaddress.IPv6Address(number)
    return ipaddress.ip_address(value)


def parse_address(text):
    """Return the normalised IP address written in *text*.

    :raises ValueError: naming *text* when it is not an address.
    """
    return _parse(text)[0]


def parse_network(text):
    """Return the normalised network written in *text* (CIDR or address).

    :raises ValueError: naming *text* when it is not a network, or when its
        host bits are set.
    """
    if not isinstance(text, str):
        raise ValueError('%r is not an IP network' % (text,))
    address_text, slash, prefix_text = text.strip().partition('/')
    try:
        address, mapped = _parse(address_text)
    except ValueError:
        raise ValueError('%r is not an IP network' % (text,)) from None
    if not slash:
        return ipaddress.ip_network(address)
    # isdigit() alone admits '²' and other non-ASCII digits.
    if not (prefix_text.isascii() and prefix_text.isdigit()):
        raise ValueError('%r has an invalid prefix length' % (text,))
    prefix = int(prefix_text)
    if mapped:
        prefix -= IPV4_MAPPED_PREFIX
        if prefix < 0:
            raise ValueError('%r is wider than the IPv4-mapped range '
                             '::ffff:0:0/96' % (text,))
    try:
        return ipaddress.ip_network((address, prefix))
    except ValueError:
        pass
    try:
        wider = ipaddress.ip_network((address, prefix), strict=False)
    except ValueError:
        raise ValueError('%r has an invalid prefix length' % (text,)) from None
    raise ValueError('%r has host bits set; the network is %s'
                     % (text, wider))


def split_list(text):
    """Split a comma- and/or whitespace-separated list, dropping blanks."""
    return text.replace(',', ' ').split()


class DuplicateNetworkError(ValueError):
    """The same network was given twice to a :class:`NetworkMap`."""


class NetworkMap(object):
    """Longest-prefix lookup from networks to values.

    A lookup masks the address once per prefix length in use (at most 33 for
    IPv4, 129 for IPv6) and probes a dict for each, longest first, so its
    cost does not grow with the number of networks.
    """

    def __init__(self, items=()):
        # version -> {prefix length: {network number >> host bits: entry}}
        self._tables = {4: {}, 6: {}}
        self._probes = {4: (), 6: ()}
        self._count = 0
        for network, value in items:
            self._add(network, value)
        self._freeze()

    def _add(self, network, value):
        bits = network.max_prefixlen - network.prefixlen
        table = self._tables[network.version].setdefault(
            network.prefixlen, {})
        key = int(network.network_address) >> bits
        if key in table:
            raise DuplicateNetworkError(
                '%s is listed more than once' % network)
        table[key] = (network, value)
        self._count += 1

    def _freeze(self):
        for version, tables in self._tables.items():
            width = 32 if version == 4 else 128
            self._probes[version] = tuple(
                (width - length, tables[length])
                for length in sorted(tables, reverse=True))

    def __len__(self):
        return self._count

    def networks(self):
        """All ``(network, value)`` pairs, most specific first per family."""
        return [entry for version in (4, 6)
                for _shift, table in self._probes[version]
                for entry in table.values()]

    def lookup(self, address):
        """Return ``(network, value)`` of the longest match, or ``None``.

        *address* must be normalised (see :func:`parse_address`).
        """
        number = int(address)
        for shift, table in self._probes[address.version]:
            entry = table.get(number >> shift)
            if entry is not None:
                return entry
        return None


class NetworkSet(object):
    """A set of networks; an address is in it when a network contains it.

    The same network may be given twice. The networks are merged into
    disjoint ranges of addresses, sorted, and an address is looked for by
    one bisection (``O(log n)`` in C, however many networks and prefix
    lengths).
    """

    def __init__(self, networks=()):
        self._networks = tuple(dict.fromkeys(networks))
        # version -> (starts, ends)
        self._ranges = {
            version: _merged_ranges(net for net in self._networks
                                    if net.version == version)
            for version in (4, 6)}

    def __len__(self):
        return len(self._networks)

    def networks(self):
        """The networks, each once, in the order given."""
        return list(self._networks)

    def __contains__(self, address):
        """Whether *address* (normalised, see :func:`parse_address`) is in."""
        starts, ends = self._ranges[
            4 if isinstance(address, ipaddress.IPv4Address) else 6]
        number = int(address)
        index = bisect.bisect_right(starts, number) - 1
        return index >= 0 and number <= ends[index]

    def __str__(self):
        return ', '.join(str(network) for network in self._networks)


def _merged_ranges(networks):
    """``(starts, ends)``: the addresses of *networks* as disjoint ranges."""
    starts, ends = [], []
    for start, end in sorted((int(net.network_address),
                              int(net.broadcast_address))
                             for net in networks):
        if ends and start <= ends[-1] + 1:
            ends[-1] = max(ends[-1], end)  # overlapping or adjacent
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def forwarded_client(peer, forwarded_for, trusted_proxies):
    """Return the client address of an HTTP request, or ``None``.

    :param peer: the direct peer (``REMOTE_ADDR``).
    :param forwarded_for: the ``X-Forwarded-For`` value, or ``None``.
    :param trusted_proxies: a :class:`NetworkSet` of proxies whose
        ``X-Forwarded-For`` entries are believed.

    The header is walked right to left, and only while the hop that wrote
    each entry is trusted: anything left of the first untrusted address was
    written by the client and is ignored. ``None`` means the client is
    unknown, and the caller must treat it so: an address that would have
    to be believed does not parse, or every address is a trusted proxy's
    (one that forwards without saying for whom, or a chain of them), which
    would make each client it serves look like the proxy itself.
    """
    try:
        address = parse_address(peer)
    except ValueError:
        return None
    if address not in trusted_proxies:
        return address
    for hop in reversed(forwarded_for.split(',') if forwarded_for else ()):
        try:
            address = parse_address(hop)
        except ValueError:
            return None
        if address not in trusted_proxies:
            return address
    return None


def chain_client(chain, trusted_hops):
    """Return the client address from a raw forwarded chain, or ``None``.

    :param chain: ``"a, b, c"`` as oslo.middleware's ``http_proxy_to_wsgi``
        leaves it in ``REMOTE_ADDR`` (or a single address).
    :param trusted_hops: how many proxies in front of the service append to
        the chain; the client is that many entries from the right.

    ``None`` when the chain is shorter than the trusted hops (the request did
    not come through them) or the entry does not parse: the caller must
    refuse. With no trusted hops only a single address is accepted, since any
    chain would then be entirely client-written.
    """
    if not isinstance(chain, str):
        return None
    entries = chain.split(',')
    if trusted_hops == 0:
        if len(entries) != 1:
            return None
        entry = entries[0]
    elif len(entries) < trusted_hops:
        return None
    else:
        entry = entries[-trusted_hops]
    try:
        return parse_address(entry)
    except ValueError:
        return None

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

"""The addresses of the host the proxy runs on (``always_allow = auto``).

Read from the kernel rather than from ``gethostbyname(gethostname())`` (the
2013 guide's way), which answers ``127.0.1.1`` on Debian and misses every
real interface. Only 127.0.0.1 of the loopback range is included, so local
tools can still bind 127.0.0.2, 127.0.0.3... and be outside clients.
"""

import fcntl
import socket
import struct

from openstack_ext import addresses

SIOCGIFADDR = 0x8915  # linux/sockios.h
LOOPBACK_ADDRESSES = ('127.0.0.1', '::1')


def _ipv4_interface_addresses():
    found = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _index, name in socket.if_nameindex():
            request = struct.pack('256s', name.encode()[:15])
            try:
                reply = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:
                continue  # interface has no IPv4 address
            found.append(socket.inet_ntoa(reply[20:24]))
    finally:
        probe.close()
    return found


def _ipv6_interface_addresses(path='/proc/net/if_inet6'):
    found = []
    try:
        with open(path) as table:
            for line in table:
                digits = line.split()[0]
                found.append(':'.join(digits[i:i + 4]
                                      for i in range(0, 32, 4)))
    except OSError:
        pass  # no IPv6 on this host
    return found


def local_addresses():
    """Return the host's interface addresses plus 127.0.0.1 and ::1."""
    result = set(addresses.parse_address(a) for a in LOOPBACK_ADDRESSES)
    for text in _ipv4_interface_addresses() + _ipv6_interface_addresses():
        address = addresses.parse_address(text)
        if not address.is_loopback:
            result.add(address)
    return sorted(result, key=lambda a: (a.version, a))

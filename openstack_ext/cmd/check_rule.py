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

"""``openstack-ext check-rule``: would the proxy accept this allow-* rule?

The verdict is the middleware's own (``rules.parse_values`` and the
metadata limits it applies to a rule write, and for a client the
decision itself, ``decision.decide``); the per-entry detail comes
from :func:`openstack_ext.addresses.parse_network`, which it calls, so the
messages are the ones the parser raises.
"""

import argparse
import ipaddress
import re

from openstack_ext import addresses
from openstack_ext.cmd import report
from openstack_ext.swift import decision  # pure: imports no Swift

HELP = 'is this allow-* value valid, and what does it cover?'
DESCRIPTION = """\
Check the value of an ip_whitelist rule exactly as the Swift proxy does when
the owner writes it, and show what it covers. Pass the value alone, or the
rule as you would give it to "swift post --meta" (allow-NAME:VALUE), or as
an HTTP header (X-Container-Meta-Allow-NAME: VALUE)."""
EPILOG = """\
examples:
  openstack-ext check-rule 198.51.100.12
  openstack-ext check-rule "allow-office:203.0.113.0/24 2001:db8:5::/48"
  openstack-ext check-rule 10.1.2.3/16            # refused: host bits set
  openstack-ext check-rule allow-dev:10.2.0.0/16 --client 10.2.9.9
  openstack-ext check-rule allow-dev:10.2.0.0/16 --account-rule 10.0.0.0/8

A client passes only when every level that has rules lists it: the
account's rules bound all of its containers. With --account-rule (the
values of the account's allow-* rules, from "swift stat" as the owner),
container networks and clients outside them are pointed out: they are
refused, however the container's own rules read.

exit status: 0 every rule is valid, 1 a rule would be refused (the proxy
answers 400 and stores nothing), 2 usage error."""

# What "swift post --meta allow-dev:..." sends, and the header spellings.
_NAMED = re.compile(r'(?:x-(?:container|account)-meta-)?(allow-[^:\s]*)'
                    r'\s*:(.*)\Z', re.IGNORECASE | re.DOTALL)
_HEADER_PREFIX = 'x-container-meta-'
# The verdict on the rules alone: always_allow is the proxy's.
_NOBODY_ALWAYS_ALLOWED = decision.Options(
    always_allow=addresses.NetworkSet(), deny_without_rules=False,
    mode=decision.ENFORCE)


def _client(text):
    try:
        return addresses.parse_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error))


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'check-rule', help=HELP, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'rules', nargs='+', metavar='VALUE',
        help='an allow-* value, allow-NAME:VALUE, or a metadata header')
    parser.add_argument(
        '--client', action='append', default=[], type=_client,
        metavar='ADDRESS',
        help='also say whether this client address is covered (repeatable)')
    parser.add_argument(
        '--account-rule', action='append', default=[], metavar='VALUE',
        dest='account_rules',
        help='a value of the account\'s allow-* rules, which bound the '
             'container\'s (repeatable)')
    parser.set_defaults(run=run)


def _size(network):
    count = network.num_addresses
    if count == 1:
        return '1 address'
    if count <= 2 ** 32:
        return '{:,} addresses'.format(count)
    return '2^%d addresses' % (network.max_prefixlen - network.prefixlen)


def _normalisations(entry, network):
    """How the proxy reads *entry* differently from how it is written."""
    notes = []
    text = entry.split('/')[0]
    if text.startswith('[') and text.endswith(']'):
        notes.append('brackets dropped')
        text = text[1:-1]
    if '%' in text:
        notes.append('scope %%%s dropped' % text.partition('%')[2])
        text = text.partition('%')[0]
    if ipaddress.ip_address(text).version != network.version:
        notes.append('IPv4-mapped IPv6, matched as the IPv4 %s' % (
            'address' if network.num_addresses == 1 else 'network'))
    if '/' not in entry:
        notes.append('a single address (/%d)' % network.max_prefixlen)
    elif not notes and entry != str(network):
        notes.append('written %s' % entry)
    return notes


def _same_family(network, others):
    return [other for other in others if other.version == network.version]


def _perimeter_note(network, account):
    """What the account's rules leave of *network*, or None: all of it."""
    family = _same_family(network, account)
    if any(network.subnet_of(other) for other in family):
        return None
    if any(network.overlaps(other) for other in family):
        return ('only partly inside the account\'s rules: the rest is '
                'refused')
    return 'outside the account\'s rules: refused (the account bounds it)'


def _describe(entry, network, all_networks, account=None):
    kind = 'IPv%d' % network.version
    span = (str(network.network_address) if network.num_addresses == 1 else
            '%s - %s' % (network.network_address, network.broadcast_address))
    notes = _normalisations(entry, network)
    if network.prefixlen == 0:
        notes.append('EVERY %s client: the rule allows everybody' % kind)
    wider = [other for other in all_networks
             if other != network and other.version == network.version
             and network.subnet_of(other)]
    if wider:
        notes.append('already inside %s' % wider[0])
    if account is not None:
        note = _perimeter_note(network, account)
        if note:
            notes.append(note)
    line = '%-20s %-5s %-25s %s' % (network, kind, _size(network), span)
    return line, notes


def _split(text):
    """``(rule name or None, value)`` of a command-line argument."""
    match = _NAMED.match(text.strip())
    if match:
        return match.group(1).lower(), match.group(2).strip()
    return None, text.strip()


def check_one(rep, text, clients, account=None):
    from openstack_ext.swift import rules
    from swift.common import constraints

    name, value = _split(text)
    label = name or 'value'
    rep.line('%s: %r' % (label, value))
    if name is not None:
        header = _HEADER_PREFIX + name
        if name == rules.RULE_PREFIX:
            rep.error('%s has no name after "allow-": the proxy answers 400 '
                      '(invalid rule name)' % text.strip())
            return
        if len(header) > constraints.MAX_META_NAME_LENGTH:
            rep.error('the header %s is longer than %d characters'
                      % (header, constraints.MAX_META_NAME_LENGTH))
            return
    if len(value) > constraints.MAX_META_VALUE_LENGTH:
        rep.error('the value is longer than %d characters (it has %d): split '
                  'it over several allow-* rules'
                  % (constraints.MAX_META_VALUE_LENGTH, len(value)))
        return
    if not value:
        rep.line('empty: writing it removes the rule%s' % (
            ' ' + name if name else ''), 2)
        return
    networks, bad = rules.parse_values((value,))
    if bad:
        for entry in bad:
            try:
                addresses.parse_network(entry)
            except ValueError as error:
                rep.error(str(error))
        rep.para('the proxy answers 400 "invalid %s rule: %s" and stores '
                 'nothing of that request'
                 % (name or 'allow-NAME', ', '.join(bad)), 2)
        return
    entries = addresses.split_list(value)
    parsed = [addresses.parse_network(entry) for entry in entries]
    rep.line('valid: %d network%s' % (len(parsed),
                                      '' if len(parsed) == 1 else 's'), 2)
    for entry, network in zip(entries, parsed):
        line, notes = _describe(entry, network, parsed, None if account
                                is None else account.networks())
        rep.line(line, 4)
        for note in notes:
            rep.line('- ' + note, 6)
    for client in clients:
        covering = [network for network in parsed if client in network]
        verdict = 'covered by %s' % max(
            covering, key=lambda n: n.prefixlen) if covering else 'NOT covered'
        if covering and decision.decide(
                client, [(decision.ACCOUNT, account, decision.ENFORCE),
                         (decision.CONTAINER, networks, decision.ENFORCE)],
                _NOBODY_ALWAYS_ALLOWED).refused_by == decision.ACCOUNT:
            verdict += ', but refused: outside the account\'s rules'
        rep.line('client %s: %s' % (client, verdict), 2)


def _account_networks(rep, values):
    """The account's rules (a NetworkSet), or None when not given."""
    if not values:
        return None
    from openstack_ext.swift import rules
    networks, bad = rules.parse_values(tuple(values))
    for entry in bad:
        rep.error('--account-rule: %s is not a network the proxy accepts'
                  % entry)
    return networks


def run(args, out):
    rep = report.Report(out)
    account = _account_networks(rep, args.account_rules)
    for text in args.rules:
        check_one(rep, text, args.client, account)
    if rep.errors:
        return rep.verdict('')
    rep.para('A client passes only when every level that has rules lists '
             'it: the account\'s rules bound the whole account (its own '
             'requests included), a container\'s rules narrow within them; '
             'the proxy\'s always_allow addresses always pass. Set a rule as '
             'the owner, from an address the rules in force already list: '
             'swift post --meta "allow-NAME:VALUE" CONTAINER (no CONTAINER: '
             'the account).')
    return rep.verdict('the proxy accepts %s' % (
        'this rule' if len(args.rules) == 1 else 'these rules'))

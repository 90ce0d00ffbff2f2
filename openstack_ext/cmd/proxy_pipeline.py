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

"""A Swift proxy pipeline as the proxy itself would build it.

The file is read with Swift's own paste loading (so ``config_dir``,
``egg:`` and ``paste.filter_factory =`` sections resolve as they do in
swift-proxy-server), then the proxy's own ``modify_wsgi_pipeline`` inserts
the filters it requires (catch_errors, gatekeeper, listing_formats, copy,
dlo, versioned_writes), so their real positions are known. Nothing is
instantiated: no ring, memcache or backend is needed.

Swift has no public interface for that last step short of building the
whole proxy, so :func:`insert_required_filters` is the one place that leans
on Swift's internals: it calls ``Application.modify_wsgi_pipeline(self,
pipe)`` with a stand-in for the Application that has only the ``logger`` it
writes to. :func:`check_swift` verifies that method at the start of every
verb that needs it, and raises :class:`SwiftInternalsError` (the verb
reports it and exits 1) when this Swift's method is different; the stand-in
names any other attribute the method asks for, instead of failing in some
unrelated way.
"""

import collections
import configparser
import inspect
import os

from openstack_ext.swift import pipeline

Filter = collections.namedtuple('Filter', 'token kind ep inserted')
Filter.__doc__ = """One middleware of a pipeline.

``token``: its word in the ``pipeline =`` line (the section name);
``kind``: the Swift entry point name it is (``memcache``, ``tempauth``...),
whatever the section is called and however it is loaded, ``ip_whitelist``
for ours; ``ep``: the entry point name Swift's PipelineWrapper sees (only
for ``use = egg:...`` sections); ``inserted``: added by the proxy.
"""

OURS = 'ip_whitelist'
OUR_SECTION = '[filter:ip_whitelist]\nuse = egg:openstack_ext#ip_whitelist'
# Where an explicitly listed required filter must go, right of ours: after
# these (Swift's own order: copy, then slo, dlo, then versioned_writes).
REQUIRED_AFTER = {'copy': (), 'dlo': ('copy', 'slo'),
                  'versioned_writes': ('copy', 'slo', 'dlo')}


class SwiftInternalsError(Exception):
    """This Swift's proxy differs from what :func:`check_swift` expects."""


class _Collect(object):
    """The logger the proxy's modify_wsgi_pipeline writes to."""

    def __init__(self):
        self.messages = []

    def info(self, msg, *args):
        if len(args) == 1 and isinstance(args[0], dict):
            args = args[0]
        self.messages.append(msg % args)

    debug = info


class _ApplicationStandIn(object):
    """``self`` for the proxy's modify_wsgi_pipeline: a logger, no more."""

    def __init__(self):
        self.logger = _Collect()

    def __getattr__(self, name):
        raise SwiftInternalsError(
            "Swift's Application.modify_wsgi_pipeline uses self.%s, which "
            "openstack-ext does not know: this Swift's proxy is not one "
            "openstack-ext supports (see openstack_ext.cmd.proxy_pipeline)"
            % name)


def check_swift():
    """Raise SwiftInternalsError unless the proxy's method is as expected.

    ``swift.proxy.server.Application.modify_wsgi_pipeline`` must be a plain
    method taking the pipeline wrapper alone.
    """
    from swift.proxy import server as proxy_server
    method = getattr(proxy_server.Application, 'modify_wsgi_pipeline', None)
    if (not inspect.isfunction(method) or
            list(inspect.signature(method).parameters) != ['self', 'pipe']):
        raise SwiftInternalsError(
            "swift.proxy.server.Application.modify_wsgi_pipeline is not the "
            "method(self, pipe) openstack-ext calls to know which filters "
            "the proxy inserts: this Swift's proxy is not one openstack-ext "
            "supports (see openstack_ext.cmd.proxy_pipeline)")


def insert_required_filters(pipe):
    """Insert the filters the proxy requires into *pipe*, as it does.

    *pipe* is Swift's PipelineWrapper, or anything with its interface.
    """
    from swift.proxy import server as proxy_server
    check_swift()
    proxy_server.Application.modify_wsgi_pipeline(_ApplicationStandIn(), pipe)


def _kind(ctx, names):
    from openstack_ext.swift import ip_whitelist
    if ctx.object is ip_whitelist.filter_factory:
        return OURS
    key = '%s:%s' % (getattr(ctx.object, '__module__', ''),
                     getattr(ctx.object, '__qualname__', ''))
    return names.get(key) or ctx.entry_point_name or ctx.name


class LoadedPipeline(object):
    """``written`` and ``running`` (lists of Filter), ``app``, ``ours``."""

    def __init__(self, path):
        from paste.deploy import loadwsgi
        from swift.common import wsgi
        from swift.proxy import server as proxy_server

        self.path = path = os.path.abspath(path)
        if not os.path.exists(path):
            raise ValueError('no such file or directory')
        ctx = wsgi.loadcontext(loadwsgi.APP, path)
        if ctx.object_type.name != 'pipeline':
            raise ValueError('%s has no [pipeline:main] ending in the proxy '
                             'app' % path)
        self.app = ctx.app_context.name
        self.is_proxy = ctx.app_context.object is proxy_server.app_factory
        names = pipeline.swift_filter_names()
        written = list(ctx.filter_contexts)
        if self.is_proxy:
            insert_required_filters(wsgi.PipelineWrapper(ctx))
        self.running = [Filter(c.name, _kind(c, names), c.entry_point_name,
                               not any(c is w for w in written))
                        for c in ctx.filter_contexts]
        self.written = [f for f in self.running if not f.inserted]
        self.ours = [(i, f) for i, f in enumerate(self.running)
                     if f.kind == OURS]
        self.our_options = self.our_section_options = {}
        for c in ctx.filter_contexts:
            if _kind(c, names) == OURS:
                self.our_options = dict(c.global_conf)
                self.our_options.update(c.local_conf)
                # paste copies [DEFAULT] into every section: keep only what
                # the section itself sets.
                self.our_section_options = {
                    k: v for k, v in c.local_conf.items()
                    if k != '__name__' and c.global_conf.get(k) != v}
                break
        self.sections = _sections(path)

    def our_sections(self):
        """Names of the sections defining ip_whitelist, in the file."""
        from paste.deploy import loadwsgi
        from swift.common import wsgi
        found = []
        for section in self.sections:
            kind, _colon, name = section.partition(':')
            if kind != 'filter':
                continue
            try:
                ctx = wsgi.loadcontext(loadwsgi.FILTER, self.path, name=name)
            # A broken section is reported on its own.
            except Exception:  # nosec B112
                continue
            if _kind(ctx, {}) == OURS:
                found.append(name)
        return found


def _sections(path):
    parser = configparser.RawConfigParser(strict=False)
    if os.path.isdir(path):
        parser.read(sorted(os.path.join(path, f) for f in os.listdir(path)
                           if f.endswith('.conf')))
    else:
        parser.read(path)
    return parser.sections()


class _NamePipe(object):
    """Swift's PipelineWrapper, over Filter tuples instead of contexts."""

    def __init__(self, filters):
        self.filters = list(filters)

    def __contains__(self, ep):
        return any(f.ep == ep for f in self.filters)

    def startswith(self, ep):
        return bool(self.filters) and self.filters[0].ep == ep

    def index(self, ep):
        for i, f in enumerate(self.filters):
            if f.ep == ep:
                return i
        raise ValueError(ep)

    def create_filter(self, ep):
        return Filter(ep, ep, ep, True)

    def insert_filter(self, ctx, index=0):
        self.filters.insert(index, ctx)


def simulate(filters):
    """The filters the proxy would run for this written list."""
    pipe = _NamePipe(filters)
    insert_required_filters(pipe)
    return pipe.filters


def split_at_ours(filters):
    """``(left kinds, right kinds)`` around the first ip_whitelist."""
    kinds = [f.kind for f in filters]
    i = kinds.index(OURS)
    return kinds[:i], kinds[i + 1:]


def propose(written, our_token):
    """A written filter list with ip_whitelist where it belongs.

    ip_whitelist goes right after the last middleware that must precede it
    (auth, tempurl, s3api; else cache), middleware that should follow it
    and were left of that point move right after it, and the filters the
    proxy would insert left of it are listed explicitly right of it.
    """
    ours = next((f for f in written if f.kind == OURS),
                Filter(our_token, OURS, None, False))
    rest = [f for f in written if f.kind != OURS]
    anchors = [i for i, f in enumerate(rest)
               if f.kind in pipeline.MUST_PRECEDE + ('memcache',)]
    cut = anchors[-1] + 1 if anchors else 0
    if not anchors:  # no auth, no cache: after the error/logging wrappers
        while cut < len(rest) and rest[cut].kind in (
                'catch_errors', 'gatekeeper', 'healthcheck', 'proxy_logging'):
            cut += 1
    moved = [f for f in rest[:cut]
             if f.kind in pipeline.MUST_FOLLOW + pipeline.SHOULD_FOLLOW]
    new = ([f for f in rest[:cut] if f not in moved] + [ours] + moved +
           rest[cut:])
    for name in ('copy', 'dlo', 'versioned_writes'):
        # One at a time: once copy is listed, dlo and versioned_writes are
        # inserted after it, which may already be right of ip_whitelist.
        kinds = [f.kind for f in new]
        if name in kinds or name not in split_at_ours(simulate(new))[0]:
            continue
        at = max([kinds.index(OURS)] + [
            i for i, k in enumerate(kinds)
            if k in REQUIRED_AFTER[name] and i > kinds.index(OURS)])
        new.insert(at + 1, Filter(name, name, name, False))
    return new

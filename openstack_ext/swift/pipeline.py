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

"""Where ``ip_whitelist`` must sit in the proxy pipeline, and why.

The one place these rules live: the middleware checks them at start (a
placement that opens a bypass stops the proxy), ``openstack-ext
check-proxy-pipeline`` reports on them and prints the corrected pipeline
(``--print-fixed-pipeline``: the line alone), and the DevStack plugin
writes that line and then runs the check. Middleware are named by their
Swift entry point names, read from Swift's own package metadata
(:func:`swift_filter_names`), whatever their section is called.
"""

import functools
import importlib.metadata

#: Left of ip_whitelist, or the whitelist can be skipped (an error):
#:
#: - tempauth, keystoneauth set ``swift.authorize``; right of ip_whitelist
#:   they replace the wrapped one, and subrequests (SLO segments, COPY
#:   sources) lose the check;
#: - tempurl: its ``swift.authorize`` allows the whole account to
#:   subrequests;
#: - s3api: until it has rewritten ``/bucket/key`` the path names no
#:   container.
MUST_PRECEDE = ('s3api', 'tempurl', 'tempauth', 'keystoneauth')

#: Right of ip_whitelist, or the whitelist can be skipped (an error): slo's
#: asynchronous manifest delete (``async=yes``) asks ``swift.authorize``
#: about the segments' container with the manifest's own request, then
#: queues the segments for the expirer with pre-authorised requests. Right
#: of ip_whitelist, it gets the synchronous delete, whose every segment
#: delete the whitelist judges (``judge.without_async_delete``).
MUST_FOLLOW = ('slo',)

#: Right of ip_whitelist, or they lose the client address (a warning): they
#: consume the client's request and make subrequests without
#: ``REMOTE_ADDR``, which the whitelist then refuses wherever a rule applies
#: (safe, but broken).
SHOULD_FOLLOW = ('bulk', 'formpost', 'staticweb', 'copy', 'dlo',
                 'versioned_writes', 'symlink')

# Always in a Swift proxy pipeline (the proxy inserts them when missing), so
# not finding one right of ip_whitelist means it is left of it.
ALWAYS_PRESENT = ('copy', 'dlo', 'versioned_writes')

MAX_DEPTH = 100  # a pipeline is a few dozen apps; never loop forever


# Where middleware keep the next app: Swift's own and most others use
# ``app``; keystonemiddleware ``_app``; oslo.middleware and osprofiler
# ``application``; keystonemiddleware.audit ``_application``.
NEXT_APP_ATTRIBUTES = ('app', '_app', 'application', '_application')


@functools.lru_cache(maxsize=1)
def swift_filter_names():
    """Swift's paste filter factories: ``'module:function'`` -> entry point.

    The one source of middleware names, here and in ``openstack-ext
    check-proxy-pipeline``.
    """
    names = {}
    for ep in importlib.metadata.entry_points(group='paste.filter_factory'):
        if ep.dist is not None and ep.dist.name == 'swift':
            names[ep.value.replace(' ', '')] = ep.name
    return names


# One entry per class module of a middleware seen: a few dozen at most.
@functools.lru_cache(maxsize=256)
def name_of_module(module):
    """The entry point whose factory's module is *module* or contains it.

    A factory may return a class of a submodule (versioned_writes returns
    ``versioned_writes.legacy`` or ``.object_versioning`` middleware).
    """
    by_module = {value.partition(':')[0]: name
                 for value, name in swift_filter_names().items()}
    while module:
        if module in by_module:
            return by_module[module]
        module = module.rpartition('.')[0]
    return None


def name_of(app):
    """The entry point name of a Swift middleware instance, or ``None``."""
    return name_of_module(type(app).__module__)


def names_right_of(app):
    """Names of the known middleware in the chain from ``app``.

    Follows the attribute each middleware keeps its next app in; a
    middleware that keeps it elsewhere hides the rest of the chain, which
    :func:`check_loaded_pipeline` sees once the proxy has loaded.
    """
    names = []
    for _step in range(MAX_DEPTH):
        if app is None:
            break
        name = name_of(app)
        if name:
            names.append(name)
        app = next((getattr(app, attribute) for attribute in
                    NEXT_APP_ATTRIBUTES if getattr(app, attribute, None)),
                   None)
    return names


def placement_problems(left, right):
    """Return ``(errors, warnings)`` for ip_whitelist between these.

    :param left: names of the middleware before ip_whitelist.
    :param right: names of the middleware after it.
    """
    errors = ['%s must come before ip_whitelist in the pipeline, '
              'otherwise the whitelist can be bypassed' % name
              for name in MUST_PRECEDE if name in right]
    errors += ['%s must come after ip_whitelist in the pipeline, '
               'otherwise the whitelist can be bypassed' % name
               for name in MUST_FOLLOW if name in left]
    warnings = ['%s should come after ip_whitelist in the pipeline, '
                'otherwise its requests to containers with rules are '
                'refused' % name
                for name in SHOULD_FOLLOW if name in left]
    return errors, warnings


def check_running_pipeline(app):
    """``(errors, warnings)`` seen from the app right of ip_whitelist.

    What a filter can see while the proxy builds its pipeline, right to
    left: only what follows it.
    """
    right = names_right_of(app)
    left = [name for name in ALWAYS_PRESENT if name not in right]
    return placement_problems(left, right)


def check_loaded_pipeline(apps, whitelist):
    """``(errors, warnings)`` from the whole pipeline, as Swift lists it.

    Swift's loadapp gives every app of the pipeline the list of all of
    them (``_pipeline``), whatever attributes they keep their next app in.
    """
    position = next(i for i, app in enumerate(apps) if app is whitelist)
    return placement_problems(
        [name_of(app) for app in apps[:position]],
        [name_of(app) for app in apps[position + 1:]])


def misplaced_once_loaded(whitelist, logger):
    """What is wrong with the loaded pipeline around *whitelist*, or None.

    Swift lists a loaded pipeline's apps in ``_pipeline``: this catches
    what the start-up check cannot see past (a middleware that keeps its
    next app in an unusual attribute). Warnings are logged; with an error
    the filter refuses every request the rules would judge.
    """
    apps = getattr(whitelist, '_pipeline', None)
    if not apps:
        return None  # not loaded by Swift's loadapp
    errors, warnings = check_loaded_pipeline(apps, whitelist)
    for warning in warnings:
        logger.warning('ip_whitelist: %s', warning)
    if not errors:
        return None
    misplaced = '; '.join(errors)
    logger.error('ip_whitelist: %s: refusing every account, container and '
                 'object request', misplaced)
    return misplaced

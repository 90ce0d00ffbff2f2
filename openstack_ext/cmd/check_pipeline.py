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

"""``openstack-ext check-proxy-pipeline``: is ip_whitelist set up right?

The placement rules are the middleware's own
(:func:`openstack_ext.swift.pipeline.placement_problems`, which also stops
the proxy at start on an error), applied to the pipeline as the proxy would
run it (see :mod:`openstack_ext.cmd.proxy_pipeline`); the options are
checked by constructing the middleware from them. A deployment tool's
YAML file is checked as the proxy-server.conf the tool makes of it, and
fixed in its own form (see :mod:`openstack_ext.cmd.pipeline_forms`).
"""

import argparse
import difflib
import os
import tempfile
import textwrap

from openstack_ext.cmd import report
from openstack_ext.swift import pipeline

HELP = ('is ip_whitelist placed and configured right in proxy-server.conf '
        '(or an OpenStack-Ansible or openstack-helm file)?')
DESCRIPTION = """\
Read a Swift proxy-server.conf (or proxy-server.conf.d directory) the way
swift-proxy-server does, including the middleware the proxy inserts on its
own (gatekeeper, copy, dlo, versioned_writes...), and check the ip_whitelist
filter. A .yml or .yaml file is read in a deployment tool's form, as the
proxy-server.conf the tool writes from it: OpenStack-Ansible's
swift_middleware_list (a list, alone or in a user_variables file, with
swift_proxy_server_conf_overrides) or an openstack-helm swift values file
(conf.proxy_server). The check:

  * present, once, under any section name (use = egg:openstack_ext#
    ip_whitelist or paste.filter_factory = openstack_ext.swift.ip_whitelist:
    filter_factory);
%s
%s
%s
  * after cache (WARNING: otherwise every request reads the rules from the
    backend servers);
  * its options parse (ERROR: the proxy refuses to start) and are known.

When the placement is wrong it prints the corrected "pipeline =" line, or
for a tool's file the YAML to put in it.""" % (
    # The rules themselves (openstack_ext.swift.pipeline), not a copy.
    textwrap.fill('after %s (ERROR: otherwise the whitelist can be bypassed; '
                  'the proxy refuses to start);'
                  % ', '.join(pipeline.MUST_PRECEDE), 76,
                  initial_indent='  * ', subsequent_indent='    '),
    textwrap.fill('before %s (ERROR: otherwise the whitelist can be '
                  'bypassed; the filter answers 503 to every request it '
                  'judges);' % ', '.join(pipeline.MUST_FOLLOW), 76,
                  initial_indent='  * ', subsequent_indent='    '),
    textwrap.fill('before %s (WARNING: otherwise their requests to protected '
                  'containers fail);' % ', '.join(pipeline.SHOULD_FOLLOW), 76,
                  initial_indent='  * ', subsequent_indent='    '))
EPILOG = """\
examples:
  openstack-ext check-proxy-pipeline /etc/swift/proxy-server.conf
  openstack-ext check-proxy-pipeline --allow-warnings \
      /etc/swift/proxy-server.conf.d
  openstack-ext check-proxy-pipeline --print-fixed-pipeline \
      /etc/swift/proxy-server.conf
  openstack-ext check-proxy-pipeline \
      /etc/openstack_deploy/user_variables_openstack_ext.yml
  openstack-ext check-proxy-pipeline --print-fixed-pipeline swift.yaml

exit status: 0 no problem, 1 an error or a warning (with --allow-warnings:
only an error), 2 usage error."""

FORM_NAMES = {'osa': 'OpenStack-Ansible swift_middleware_list',
              'helm': 'openstack-helm conf.proxy_server'}
KNOWN_OPTIONS = ('deny_message', 'always_allow', 'trusted_proxies',
                 'deny_without_rules', 'mode', 'max_rules',
                 'rules_cache_time', 'operator_rules', 'operator_mode',
                 'replica_reads')
FALSE_VALUES = ('0', 'no', 'n', 'false', 'f', 'off')


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'check-proxy-pipeline', help=HELP, description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', metavar='PROXY_SERVER_CONF',
                        help='proxy-server.conf file or .conf.d directory, '
                        'or a .yml/.yaml file: OpenStack-Ansible '
                        'swift_middleware_list or openstack-helm values')
    parser.add_argument('--allow-warnings', action='store_true',
                        help='exit 0 when there are warnings but no error')
    parser.add_argument('--print-fixed-pipeline', action='store_true',
                        help='print only the value of "pipeline =" with '
                        'ip_whitelist placed by these rules (the Fix: line; '
                        'the DevStack plugin writes it), or for a tool\'s '
                        'file the YAML that sets it; exit 1 when it cannot '
                        'be placed automatically')
    parser.set_defaults(run=run)


def _line(filters):
    return ' '.join(('+' if f.inserted else '') + f.token for f in filters)


def _check_placement(rep, loaded, proxy_pipeline, pipeline):
    """Report placement problems; return True when a fix is needed."""
    left, right = proxy_pipeline.split_at_ours(loaded.running)
    errors, warnings = pipeline.placement_problems(left, right)
    inserted = set(f.kind for f in loaded.running if f.inserted)
    for text in errors:
        rep.error(text)
    for text in warnings:
        name = text.split()[0]
        if name in inserted:
            text += (' (the proxy inserts %s there because the pipeline does '
                     'not list it: list it right of ip_whitelist)' % name)
        rep.warning(text)
    cache_problem = 'memcache' not in left
    if cache_problem:
        rep.warning('cache (egg:swift#memcache) should come before '
                    'ip_whitelist%s: otherwise every request reads the rules '
                    'from the account and container servers' % (
                        '' if 'memcache' in right else
                        ' and is not in the pipeline'))
    return bool(errors or warnings or cache_problem)


def _check_options(rep, options, local):
    from openstack_ext.swift import conf as whitelist_conf
    from swift.common import utils

    for key in sorted(local):
        if key in KNOWN_OPTIONS or key.startswith('log_'):
            continue
        guess = difflib.get_close_matches(key, KNOWN_OPTIONS, 1)
        rep.warning('unknown option %s = %s in the ip_whitelist section: it '
                    'is ignored%s' % (key, local[key], '; did you mean %s?'
                                      % guess[0] if guess else ''))
    try:
        # The middleware's own parser: exactly what the proxy reads.
        config = whitelist_conf.parse(options)
    except ValueError as error:
        rep.error('%s: the proxy refuses to start' % error)
        return
    strict = options.get('deny_without_rules', 'false').strip().lower()
    if strict not in utils.TRUE_VALUES and strict not in FALSE_VALUES:
        rep.warning('deny_without_rules = %s is not a boolean: it is read '
                    'as false' % options['deny_without_rules'])
    rep.line('options:')
    always = options.get('always_allow', 'auto')
    strict = config.options.deny_without_rules
    rep.field('  deny_message', repr(config.deny_message), 22)
    rep.field('  always_allow', '%s -> %s' % (
        always, config.options.always_allow or '(nobody)'), 22)
    rep.field('  trusted_proxies', str(config.trusted_proxies or '(none)'),
              22)
    rep.field('  deny_without_rules', '%s%s' % (
        str(strict).lower(),
        ' (a container without rules is closed)' if strict else ''), 22)
    rep.field('  mode', '%s%s' % (config.options.mode, (
        ' (nothing is enforced: would-be denials are logged)'
        if config.options.mode == 'audit' else '')), 22)
    rep.field('  max_rules', '%d networks per account or container'
              % config.max_rules, 22)
    kept = config.rules_cache_time
    rep.field('  rules_cache_time', '%g s (%s)' % (
        kept, 'rules kept per process: changes made through other proxies '
        'or workers apply up to that much later' if kept else
        'rules read with every request'), 22)


def _fixed(loaded, proxy_pipeline):
    token = loaded.ours[0][1].token if loaded.ours else (
        (loaded.our_sections() or [proxy_pipeline.OURS])[0])
    return proxy_pipeline.propose(loaded.written, token)


def _tool_fix(tool, loaded, fixed):
    """The fix in the tool's own YAML form."""
    from openstack_ext.cmd import pipeline_forms
    missing = any(f.kind == pipeline_forms.OURS and
                  'filter:' + f.token not in loaded.sections for f in fixed)
    return pipeline_forms.fixed_text(
        tool, [f.token for f in fixed] + [loaded.app], missing)


def _print_fixed(out, loaded, proxy_pipeline, pipeline, tool):
    fixed = _fixed(loaded, proxy_pipeline)
    errors, _warnings = pipeline.placement_problems(
        *proxy_pipeline.split_at_ours(proxy_pipeline.simulate(fixed)))
    if errors:
        out.write('ERROR: no automatic placement of ip_whitelist: %s\n'
                  % '; '.join(errors))
        return 1
    if tool:
        out.write(_tool_fix(tool, loaded, fixed))
    else:
        out.write('%s %s\n' % (' '.join(f.token for f in fixed),
                               loaded.app))
    return 0


def _propose(rep, loaded, proxy_pipeline, pipeline, tool):
    fixed = _fixed(loaded, proxy_pipeline)
    left, right = proxy_pipeline.split_at_ours(
        proxy_pipeline.simulate(fixed))
    if any(pipeline.placement_problems(left, right)):
        rep.line('No automatic fix: move the middleware named above by hand.')
        return
    if fixed == loaded.written:
        rep.line('Fix: add cache (use = egg:swift#memcache) before '
                 'ip_whitelist.')
        return
    if tool:
        rep.line('Fix: in %s, use' % tool.path)
        for line in _tool_fix(tool, loaded, fixed).splitlines():
            rep.line(line, 4)
    else:
        rep.line('Fix: in [pipeline:main] of %s, use' % loaded.path)
        rep.line('pipeline = %s %s' % (_line(fixed), loaded.app), 4)
    running = proxy_pipeline.simulate(fixed)
    if len(running) > len(fixed):
        rep.para('%s %s' % (_line(running), loaded.app), 2,
                 'which the proxy runs as: ')
    if 'memcache' not in left:
        rep.line('and add cache (use = egg:swift#memcache) before '
                 'ip_whitelist', 2)
    for f in fixed:
        if tool or 'filter:' + f.token in loaded.sections:
            continue
        rep.line('and add the section', 2)
        text = (proxy_pipeline.OUR_SECTION if f.kind == proxy_pipeline.OURS
                else '[filter:%s]\nuse = egg:swift#%s' % (f.token, f.kind))
        for line in text.splitlines():
            rep.line(line, 4)


def _load(rep, args, proxy_pipeline, workdir):
    """``(LoadedPipeline, ToolPipeline or None)``, or None when reported."""
    from openstack_ext.cmd import pipeline_forms
    tool = None
    try:
        path = args.config
        if pipeline_forms.is_tool_file(path):
            tool = pipeline_forms.read(path)
            path = os.path.join(workdir, 'proxy-server.conf')
            with open(path, 'w') as f:
                f.write(pipeline_forms.proxy_conf_text(tool))
        if not args.print_fixed_pipeline:
            rep.field('config', args.config + (
                ' (%s)' % FORM_NAMES[tool.form] if tool else ''))
            for name, item in sorted(tool.written.items() if tool else ()):
                rep.note('%s is checked as %s, as it renders when its '
                         'condition holds' % (item, name))
    except ValueError as error:  # what the tool's file says
        rep.error(str(error))
        return None
    return proxy_pipeline.LoadedPipeline(path), tool


def run(args, out):
    # Swift itself is imported here, outside the broad except below: a
    # missing swift is reported by main() as the wrong environment, not
    # mistaken for a middleware the configuration fails to import.
    from paste.deploy import loadwsgi  # noqa: F401
    from swift.proxy import server  # noqa: F401

    # A tool's file is checked as the proxy-server.conf it makes, written
    # here for as long as the check reads it.
    with tempfile.TemporaryDirectory(prefix='check-proxy-pipeline-') as tmp:
        return _check(args, out, tmp)


def _check(args, out, workdir):
    from openstack_ext.cmd import proxy_pipeline
    from openstack_ext.swift import pipeline

    rep = report.Report(out)
    try:
        proxy_pipeline.check_swift()
    except proxy_pipeline.SwiftInternalsError as error:
        rep.error(str(error))
        return rep.verdict('', args.allow_warnings)
    try:
        result = _load(rep, args, proxy_pipeline, workdir)
        if result is None:
            return rep.verdict('', args.allow_warnings)
        loaded, tool = result
    except Exception as error:  # whatever stops the proxy loading it
        rep.error('the proxy cannot load this pipeline: %s' % str(
            error).replace(os.path.join(workdir, 'proxy-server.conf'),
                           'the proxy-server.conf made from %s'
                           % args.config))
        if 'swift.common.middleware.ip_whitelist' in str(error):
            rep.para('This is the 2013 guide\'s module. Replace its '
                     'paste.filter_factory line with "use = egg:openstack_ext'
                     '#ip_whitelist".')
        return rep.verdict('', args.allow_warnings)
    if not loaded.is_proxy:
        rep.error('the pipeline ends in %s, not in Swift\'s proxy app '
                  '(use = egg:swift#proxy)' % loaded.app)
        return rep.verdict('', args.allow_warnings)
    if args.print_fixed_pipeline:
        return _print_fixed(out, loaded, proxy_pipeline, pipeline, tool)
    rep.field('pipeline', '%s %s' % (_line(loaded.written), loaded.app))
    if any(f.inserted for f in loaded.running):
        rep.field('as run', '%s %s' % (_line(loaded.running), loaded.app))
        rep.line('(+: inserted by the proxy, not listed)', 18)
    needs_fix = True
    if not loaded.ours:
        defined = loaded.our_sections()
        rep.error('ip_whitelist is not in the pipeline: no container is '
                  'protected%s' % ('; [filter:%s] defines it but the '
                                   'pipeline does not list %s'
                                   % (defined[0], defined[0])
                                   if defined else ''))
    else:
        index, ours = loaded.ours[0]
        rep.field('ip_whitelist', '[filter:%s], position %d of %d as the '
                  'proxy runs it' % (ours.token, index + 1,
                                     len(loaded.running) + 1))
        if len(loaded.ours) > 1:
            rep.error('ip_whitelist is listed %d times: list it once'
                      % len(loaded.ours))
        needs_fix = _check_placement(rep, loaded, proxy_pipeline,
                                     pipeline) or len(loaded.ours) > 1
        _check_options(rep, loaded.our_options,
                       loaded.our_section_options)
    if needs_fix:
        _propose(rep, loaded, proxy_pipeline, pipeline, tool)
    return rep.verdict('ip_whitelist is placed and configured correctly',
                       args.allow_warnings)

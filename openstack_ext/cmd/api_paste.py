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

"""``openstack-ext print-api-paste``: Nova's api-paste.ini with the stamp.

``ip_pool_stamp`` goes into the ``keystone`` pipeline of every v2.1
composite (the sections whose ``use`` is Nova's ``pipeline_factory_v21``:
servers created through a pipeline without it get no stamp), right after
``keystonecontext``, whose context it reads; ``[filter:ip_pool_stamp]`` is
added. Nothing else changes: the ini form is Nova's own file line for line,
so the output is always the running Nova's pipelines, never a copy of
another release's. The other forms print only what changes, in the
deployment tool's own overrides: OpenStack-Ansible's
``nova_api_paste_ini_overrides`` and openstack-helm's ``conf.paste``
(read from the chart's values, whose pipelines differ from Nova's file).
"""

import argparse
import configparser
import importlib.metadata
import os
import re

from openstack_ext.cmd import report

HELP = "print Nova's api-paste.ini with ip_pool_stamp in both v2.1 pipelines"
DESCRIPTION = """\
Print Nova's api-paste.ini with openstack-ext's ip_pool_stamp filter right
after keystonecontext in the keystone pipeline of both v2.1 composites, and
its [filter:ip_pool_stamp] section; every other line as Nova wrote it.

  --form ini   the whole file (default), from FILE or, without FILE, from
               the api-paste.ini the installed nova distribution ships;
  --form osa   OpenStack-Ansible's nova_api_paste_ini_overrides (the same
               input), for a user_variables file;
  --form helm  an openstack-helm values overlay (conf.paste), from FILE:
               the nova chart's values.yaml, whose pipelines differ from
               Nova's file (audit, no request_log).

A pipeline that already has ip_pool_stamp is kept as it is."""
EPILOG = """\
examples:
  openstack-ext print-api-paste > /etc/nova/api-paste.ini.new
  openstack-ext print-api-paste --form osa /etc/nova/api-paste.ini
  openstack-ext print-api-paste --form helm openstack-helm/nova/values.yaml

exit status: 0 printed, 1 the input cannot be read or has no v2.1
pipeline to put the filter in (nothing printed but the error), 2 usage
error."""

STAMP = 'ip_pool_stamp'
AFTER = 'keystonecontext'
SECTION = 'filter:' + STAMP
SECTION_OPTIONS = {'use': 'egg:openstack-ext#ip_pool_stamp'}
PIPELINE_KEY = 'keystone'
FACTORY = ':pipeline_factory_v21'
FORMS = ('ini', 'osa', 'helm')
OSA_VARIABLE = 'nova_api_paste_ini_overrides'


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'print-api-paste', help=HELP, description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('file', metavar='FILE', nargs='?',
                        help="Nova's api-paste.ini (default: the installed "
                        "nova's), or with --form helm the nova chart's "
                        'values file')
    parser.add_argument('--form', choices=FORMS, default='ini',
                        help='what to print (default: ini)')
    parser.set_defaults(run=run)


def installed_nova_api_paste():
    """``(path, version)`` of the api-paste.ini of the nova distribution."""
    try:
        nova = importlib.metadata.distribution('nova')
    except importlib.metadata.PackageNotFoundError:
        raise ValueError('no nova distribution is installed here: give the '
                         'api-paste.ini to read')
    for path in nova.files or ():
        if path.name == 'api-paste.ini':
            return str(path.locate()), nova.version
    raise ValueError('the nova distribution %s ships no api-paste.ini'
                     % nova.version)


def changes(sections):
    """What to change in *sections* (``{name: {key: value}}``).

    :returns: ``{section: {key: value}}``: the new pipeline of each v2.1
        composite that lacks the stamp, and the filter's section if absent.
    :raises ValueError: no v2.1 composite, or one without keystonecontext.
    """
    composites = [name for name, options in sections.items()
                  if name.startswith('composite:') and
                  str(options.get('use', '')).endswith(FACTORY)]
    if not composites:
        raise ValueError('no v2.1 composite (use = call:nova.api.auth:'
                         'pipeline_factory_v21): is this Nova\'s '
                         'api-paste.ini?')
    found = {}
    for name in composites:
        words = str(sections[name].get(PIPELINE_KEY, '')).split()
        if STAMP in words:
            continue
        if AFTER not in words:
            raise ValueError('[%s] has no %s pipeline with %s, which '
                             'ip_pool_stamp must follow'
                             % (name, PIPELINE_KEY, AFTER))
        words.insert(words.index(AFTER) + 1, STAMP)
        found[name] = {PIPELINE_KEY: ' '.join(words)}
    if SECTION not in sections:
        found[SECTION] = dict(SECTION_OPTIONS)
    return found


def _ini_sections(text, source):
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source)
    except configparser.Error as error:
        raise ValueError(str(error).replace('\n', ' '))
    return {name: dict(parser[name]) for name in parser.sections()}


def stamped_ini(text, source='<api-paste.ini>'):
    """*text* (an api-paste.ini) with the changes made, line for line."""
    sections = _ini_sections(text, source)
    todo = changes(sections)
    lines = text.splitlines(True)
    section = None
    for i, line in enumerate(lines):
        header = re.match(r'\[([^\]]+)\]', line)
        if header:
            section = header.group(1)
        elif section in todo and re.match(
                r'%s\s*[=:]' % PIPELINE_KEY, line):
            value = line.split('=' if '=' in line else ':', 1)[1].strip()
            if value != sections[section][PIPELINE_KEY]:
                raise ValueError('[%s] %s continues on another line: '
                                 'add %s by hand' % (section, PIPELINE_KEY,
                                                     STAMP))
            lines[i] = '%s = %s\n' % (PIPELINE_KEY,
                                      todo[section][PIPELINE_KEY])
    if SECTION in todo:
        if lines and not lines[-1].endswith('\n'):
            lines[-1] += '\n'
        lines.append('\n[%s]\n' % SECTION)
        lines.extend('%s = %s\n' % item for item in SECTION_OPTIONS.items())
    return ''.join(lines)


def _yaml_text(data):
    import yaml
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False,
                          width=1000)


def osa_overrides(text, source='<api-paste.ini>'):
    """OpenStack-Ansible's ``nova_api_paste_ini_overrides`` for *text*."""
    return _yaml_text({OSA_VARIABLE: changes(_ini_sections(text, source))})


def helm_overlay(values_text):
    """A nova chart values overlay (``conf.paste``) from its values."""
    import yaml
    try:
        values = yaml.safe_load(values_text)
    except yaml.YAMLError as error:
        raise ValueError('not YAML: %s' % str(error).replace('\n', ' '))
    paste = (values or {}).get('conf', {}).get('paste') if isinstance(
        values, dict) and isinstance(values.get('conf'), dict) else None
    if not isinstance(paste, dict):
        raise ValueError('no conf.paste mapping: is this the nova chart\'s '
                         'values file?')
    return _yaml_text({'conf': {'paste': changes(paste)}})


def _header(form, source):
    return ('# Generated by "openstack-ext print-api-paste --form %s" from\n'
            '# %s.\n'
            '# ip_pool_stamp in both v2.1 pipelines, right after '
            'keystonecontext.\n'
            '# Regenerate it for another release rather than edit it.\n'
            % (form, source))


def render(form, path=None):
    """The output of the verb, header included; raises ValueError."""
    if form == 'helm' and path is None:
        raise ValueError('--form helm reads the nova chart\'s values file: '
                         'give it')
    if path is None:
        path, version = installed_nova_api_paste()
        source = "nova %s's own etc/nova/api-paste.ini" % version
    else:
        source = os.path.basename(path)
    try:
        with open(path) as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError('cannot read %s: %s' % (path, error))
    if form == 'ini':
        return _header(form, source) + '\n' + stamped_ini(text, path)
    if form == 'osa':
        return _header(form, source) + osa_overrides(text, path)
    return _header(form, source) + helm_overlay(text)


def run(args, out):
    try:
        text = render(args.form, args.file)
    except ValueError as error:
        out.write('ERROR: %s\n' % error)
        return report.PROBLEMS
    out.write(text)
    return report.OK

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

"""A Swift proxy pipeline as the deployment tools write it.

Besides proxy-server.conf itself, ``check-proxy-pipeline`` reads a YAML
file (``.yml`` or ``.yaml``) in either tool's form:

* OpenStack-Ansible (os_swift): ``swift_middleware_list``, alone as a list
  or in a user_variables file, with ``[filter:ip_whitelist]`` in
  ``swift_proxy_server_conf_overrides``. The role writes ``pipeline =
  {{ swift_middleware_list | select | join(' ') }}``: empty items drop out;
  an item ``{% if CONDITION %}NAME{% endif %}`` is checked as NAME, as it
  renders when its condition holds; other templating is refused.
* openstack-helm (the swift chart): ``conf.proxy_server``, whose sections
  the chart renders one for one into proxy-server.conf; the pipeline is
  ``conf.proxy_server["pipeline:main"].pipeline``.

The file is turned into the proxy-server.conf the tool would write
(:func:`proxy_conf_text`), which the check then reads with Swift's own
loader. The middleware sections the file does not define come from the
tool's own template (os_swift ``templates/proxy-server.conf.j2`` at
ce8f5ce, the swift chart's values at openstack-helm 0ee5ade; both agree):
``[filter:NAME]`` with ``use = egg:swift#NAME`` (``-`` read as ``_``),
``cache`` for memcache, ``authtoken`` for keystonemiddleware's and
``ceilometer`` for ceilometermiddleware's. Neither tool defines
``ip_whitelist``: the file must.
"""

import collections
import re

YAML_SUFFIXES = ('.yml', '.yaml')
OSA_LIST = 'swift_middleware_list'
OSA_OVERRIDES = 'swift_proxy_server_conf_overrides'
OURS = 'ip_whitelist'
OUR_OPTIONS = {'use': 'egg:openstack_ext#ip_whitelist'}
_CONDITIONAL = re.compile(
    r'^\{%-?\s*if\s[^%]*%\}\s*([\w-]+)\s*\{%-?\s*endif\s*-?%\}$')

# The sections both tools' templates give the middleware they list.
_TOOL_SECTIONS = {
    'proxy-server': ('app', {'use': 'egg:swift#proxy'}),
    'cache': ('filter', {'use': 'egg:swift#memcache'}),
    'authtoken': ('filter', {
        'paste.filter_factory': 'keystonemiddleware.auth_token:'
                                'filter_factory',
        'delay_auth_decision': 'true'}),
    'ceilometer': ('filter', {
        'paste.filter_factory': 'ceilometermiddleware.swift:filter_factory'}),
    'versioned_writes': ('filter', {'use': 'egg:swift#versioned_writes',
                                    'allow_versioned_writes': 'true'}),
}

ToolPipeline = collections.namedtuple(
    'ToolPipeline', 'form path items written sections')
ToolPipeline.__doc__ = """A pipeline read from a deployment tool's file.

``form``: ``osa`` or ``helm``; ``items``: the middleware names, in order;
``written``: name -> the item as the file writes it (OSA's conditional
items); ``sections``: ``{'filter:NAME': {option: value}}`` the file
defines (``DEFAULT`` included).
"""


def is_tool_file(path):
    return path.endswith(YAML_SUFFIXES)


def _yaml(path):
    try:
        import yaml
    except ImportError:  # not a Swift requirement; oslo.config brings it
        raise ValueError('reading %s needs PyYAML, which is not installed '
                         'in this environment' % path)
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except OSError as error:
        raise ValueError('cannot read %s: %s' % (path, error.strerror))
    except yaml.YAMLError as error:
        raise ValueError('%s is not YAML: %s' % (
            path, ' '.join(str(error).split())))


def _sections(mapping, where):
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or not all(
            isinstance(v, dict) for v in mapping.values()):
        raise ValueError('%s must map section names to their options'
                         % where)
    return {str(name): {str(k): v for k, v in options.items()}
            for name, options in mapping.items()}


def _osa_items(items):
    if not isinstance(items, list):
        raise ValueError('%s must be a list of middleware names' % OSA_LIST)
    names, written = [], {}
    for item in items:
        if not isinstance(item, str):
            raise ValueError('%s: %r is not a middleware name'
                             % (OSA_LIST, item))
        item = item.strip()
        if not item:
            continue  # the role's "select" drops empty items
        match = _CONDITIONAL.match(item)
        if match:
            written[match.group(1)] = item
            item = match.group(1)
        elif '{' in item or not re.match(r'^[\w-]+$', item):
            raise ValueError(
                '%s: cannot read the item %r: only names and "{%% if ... %%}'
                'NAME{%% endif %%}" items are understood' % (OSA_LIST, item))
        names.append(item)
    return names, written


def read(path):
    """The ToolPipeline of a tool's YAML file; raises ValueError."""
    data = _yaml(path)
    if isinstance(data, list) or (isinstance(data, dict) and
                                  OSA_LIST in data):
        items, written = _osa_items(
            data if isinstance(data, list) else data[OSA_LIST])
        sections = _sections(data.get(OSA_OVERRIDES) if isinstance(
            data, dict) else None, OSA_OVERRIDES)
        return ToolPipeline('osa', path, items, written, sections)
    conf = data.get('conf') if isinstance(data, dict) else None
    proxy = conf.get('proxy_server') if isinstance(conf, dict) else None
    if proxy is None:
        raise ValueError(
            '%s has neither an OpenStack-Ansible %s nor an openstack-helm '
            'conf.proxy_server' % (path, OSA_LIST))
    sections = _sections(proxy, 'conf.proxy_server')
    line = sections.get('pipeline:main', {}).get('pipeline')
    if not isinstance(line, str) or not line.split():
        raise ValueError(
            '%s sets no conf.proxy_server["pipeline:main"].pipeline: give '
            'the values file that sets the pipeline' % path)
    return ToolPipeline('helm', path, line.split(), {}, sections)


def _default_section(name):
    from openstack_ext.swift import pipeline
    if name in _TOOL_SECTIONS:
        return _TOOL_SECTIONS[name]
    entry_point = name.replace('-', '_')
    if entry_point in pipeline.swift_filter_names().values():
        return 'filter', {'use': 'egg:swift#%s' % entry_point}
    return None


def _value(value):
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def proxy_conf_text(tool):
    """The proxy-server.conf the tool would write for this file."""
    def section(name, options):
        lines = ['[%s]' % name]
        lines += ['%s = %s' % (key, _value(value))
                  for key, value in options.items() if value is not None]
        return '\n'.join(lines) + '\n'

    sections = dict(tool.sections)
    sections['pipeline:main'] = dict(sections.get('pipeline:main', {}),
                                     pipeline=' '.join(tool.items))
    for index, name in enumerate(tool.items):
        kind = 'app' if index == len(tool.items) - 1 else 'filter'
        if '%s:%s' % (kind, name) in sections:
            continue
        default = None if name == OURS else _default_section(name)
        if default and default[0] != kind and kind == 'app':
            raise ValueError('%s: the pipeline ends in %s, not in the proxy '
                             'app (proxy-server)' % (tool.path, name))
        if default is None or default[0] != kind:
            raise ValueError(
                '%s lists %s, but neither the file nor the tool defines '
                'its [%s:%s] section%s' % (
                    tool.path, name, kind, name,
                    ': add it with %s' % how_to_add(tool.form, OURS)
                    if name == OURS else ''))
        sections['%s:%s' % (kind, name)] = default[1]
    return '\n'.join(section(name, options)
                     for name, options in sections.items())


def how_to_add(form, name):
    """Where a tool's file takes a section (one line)."""
    if form == 'osa':
        return '%s: {filter:%s: {use: %s}}' % (OSA_OVERRIDES, name,
                                               OUR_OPTIONS['use'])
    return 'conf.proxy_server: {filter:%s: {use: %s}}' % (
        name, OUR_OPTIONS['use'])


def fixed_text(tool, names, our_section_missing):
    """The tool's YAML setting the pipeline to *names* (app included)."""
    import yaml
    if tool.form == 'osa':
        data = {OSA_LIST: [tool.written.get(n, n) for n in names]}
        if our_section_missing:
            data[OSA_OVERRIDES] = {'filter:' + OURS: dict(OUR_OPTIONS)}
    else:
        proxy = {'pipeline:main': {'pipeline': ' '.join(names)}}
        if our_section_missing:
            proxy['filter:' + OURS] = dict(OUR_OPTIONS)
        data = {'conf': {'proxy_server': proxy}}
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False,
                          width=1000)

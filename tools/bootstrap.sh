#!/bin/bash
# Prepare everything the demo and the tests need, idempotently: the
# system packages of bindep.txt (Debian, with apt-get) and a virtualenv in
# .venv with the package (editable) and its test and documentation
# requirements, within upper-constraints.txt (TOX_CONSTRAINTS_FILE
# overrides it, as for tox).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${OPENSTACK_EXT_VENV:-$TOP/.venv}
CONSTRAINTS=${TOX_CONSTRAINTS_FILE:-$TOP/upper-constraints.txt}

say() { echo "[bootstrap] $*" >&2; }

# The Debian packages of bindep.txt's "test" profile, read without bindep:
# "name [selectors]", where platform:* selectors other than dpkg/debian
# and profiles other than test leave a package out ("!" negates).
bindep_packages() {
    python3 - "$TOP/bindep.txt" <<'PYTHON'
import re
import sys

have = {'platform:dpkg', 'platform:debian', 'test'}
for line in open(sys.argv[1]):
    line = line.split('#', 1)[0].strip()
    if not line:
        continue
    match = re.match(r'^(\S+)\s*(?:\[([^\]]*)\])?', line)
    name, selectors = match.group(1), (match.group(2) or '').split()
    wanted = True
    for kind in ('platform:', ''):
        group = [s for s in selectors
                 if s.lstrip('!').startswith('platform:') == bool(kind)]
        yes = [s for s in group if not s.startswith('!')]
        no = [s[1:] for s in group if s.startswith('!')]
        if set(no) & have or (yes and not set(yes) & have):
            wanted = False
    if wanted:
        print(name)
PYTHON
}

missing=()
for package in $(bindep_packages); do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
            grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (Debian packages, bindep.txt)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" memcached "* ]]; then
        # The tests start their own memcached on a private port.
        $SUDO systemctl disable --now memcached >/dev/null 2>&1 || true
    fi
fi

requirements=("$TOP/requirements.txt" "$TOP/test-requirements.txt"
              "$TOP/doc/requirements.txt")
stamp=$VENV/.openstack-ext-installed
want=$(cat "${requirements[@]}" "$CONSTRAINTS" "$TOP/setup.cfg" \
    "$TOP/pyproject.toml" | sha1sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    say "installing openstack-ext and its test and doc requirements" \
        "within $(basename "$CONSTRAINTS") (a minute or two)"
    log=$VENV/pip.log
    if ! "$VENV/bin/pip" install --disable-pip-version-check \
            -c "$CONSTRAINTS" "${requirements[@]/#/-r}" \
            -e "$TOP" >"$log" 2>&1; then
        grep -v "^WARNING: Location" "$log" | tail -n 30 >&2
        say "pip install failed; full log in $log"
        exit 1
    fi
    # Checked from / so that the source tree cannot stand in for the install.
    (cd / && "$VENV/bin/python" -c "import nova, swift, sphinx, openstack_ext") \
        || { say "installation is broken; see $log"; exit 1; }
    echo "$want" > "$stamp"
fi

# The deployment tools' own code (Kolla, Kolla-Ansible, config_template),
# for tests/deploy; should the registry not serve them, those tests skip
# and say why.
OPENSTACK_EXT_VENV=$VENV bash "$TOP/tools/deploy-tools.sh" ||
    say "the deployment tools could not be installed: tests/deploy skip"

#!/bin/bash
# Prepare everything the demo and the tests need, idempotently:
# memcached from Debian's packages and a virtualenv in .venv with the
# package (editable) and its test requirements.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${OPENSTACK_EXT_VENV:-$TOP/.venv}

say() { echo "[bootstrap] $*" >&2; }

if ! command -v memcached >/dev/null 2>&1; then
    say "installing memcached (Debian package)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq memcached >/dev/null
    # The tests start their own memcached on a private port.
    $SUDO systemctl disable --now memcached >/dev/null 2>&1 || true
fi

stamp=$VENV/.openstack-ext-installed
want=$(cat "$TOP/requirements.txt" "$TOP/test-requirements.txt" "$TOP/setup.cfg" | sha1sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    say "installing openstack-ext and test requirements (a minute or two)"
    log=$VENV/pip.log
    if ! "$VENV/bin/pip" install --disable-pip-version-check \
            -r "$TOP/requirements.txt" -r "$TOP/test-requirements.txt" \
            -e "$TOP" >"$log" 2>&1; then
        grep -v "^WARNING: Location" "$log" | tail -n 30 >&2
        say "pip install failed; full log in $log"
        exit 1
    fi
    # Checked from / so that the source tree cannot stand in for the install.
    (cd / && "$VENV/bin/python" -c "import nova, swift, openstack_ext") \
        || { say "installation is broken; see $log"; exit 1; }
    echo "$want" > "$stamp"
fi

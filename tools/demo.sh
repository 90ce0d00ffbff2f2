#!/bin/bash
# openstack-ext in two minutes, on a fresh machine: installs what the demo
# needs (memcached, .venv with nova, swift and this package; idempotent),
# then runs both halves for real on loopback. See tools/demo.py.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${OPENSTACK_EXT_VENV:-$TOP/.venv}

echo "[demo] preparing memcached and $VENV (the first time takes a few minutes)"
bash "$TOP/tools/bootstrap.sh"
exec "$VENV/bin/python" "$TOP/tools/demo.py" "$@"

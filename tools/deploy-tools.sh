#!/bin/bash
# Virtualenvs with the deployment tools' own code, for the tests that run
# it (tests/deploy): one per file tools/deploy-tools/NAME.txt, in
# $VENV/deploy-tools/NAME, with the versions pinned there, within
# upper-constraints.txt (TOX_CONSTRAINTS_FILE overrides it). Idempotent;
# safe to run from several test workers at once. With no argument, all.
#
#   bash tools/deploy-tools.sh [NAME...]
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${OPENSTACK_EXT_VENV:-$TOP/.venv}
CONSTRAINTS=${TOX_CONSTRAINTS_FILE:-$TOP/upper-constraints.txt}
DEST=$VENV/deploy-tools

say() { echo "[deploy-tools] $*" >&2; }

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for file in "$TOP"/tools/deploy-tools/*.txt; do
        names+=("$(basename "$file" .txt)")
    done
fi
mkdir -p "$DEST"
exec 9>"$DEST/.lock"
flock 9
for name in "${names[@]}"; do
    requirements=$TOP/tools/deploy-tools/$name.txt
    [ -f "$requirements" ] || { say "no $requirements"; exit 2; }
    venv=$DEST/$name
    want=$(cat "$requirements" "$CONSTRAINTS" | sha1sum | cut -d' ' -f1)
    installed=$(cat "$venv/.installed" 2>/dev/null || true)
    if [ "$installed" = "$want" ]; then
        continue
    fi
    say "installing $name (tools/deploy-tools/$name.txt) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    if ! "$venv/bin/pip" install --disable-pip-version-check -q \
            -c "$CONSTRAINTS" -r "$requirements" >"$venv/pip.log" 2>&1; then
        grep -v "^WARNING: Location" "$venv/pip.log" | tail -n 20 >&2
        say "pip install of $name failed; full log in $venv/pip.log"
        exit 1
    fi
    echo "$want" >"$venv/.installed"
done

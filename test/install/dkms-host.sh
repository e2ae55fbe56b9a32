#!/usr/bin/env bash
# The DKMS steps of "usbvnet install" for real, on the build machine: a root
# of our own (--root), DKMS pointed at its trees, the module built against the
# Debian kernel's headers (KVER, as "make module"). Under the VM lab's TCG a
# DKMS build takes many minutes, so test/vm/scenarios/57-install.sh installs
# the prebuilt module and this covers the rest: sources, dkms.conf, add,
# build, install, a second install doing nothing, doctor's dkms check, and
# uninstall leaving nothing behind. Prints PASS/FAIL lines; two DKMS builds, 1-3 minutes each.
#
#   KVER=6.1.0-56-amd64 bash test/install/dkms-host.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${KVER:=$(ls /lib/modules | sort -V | tail -n 1)}"
name=install-dkms
pass() { echo "PASS $name: $1"; }
fail() { echo "FAIL $name: $1"; shift; [ $# -eq 0 ] || printf '    %s\n' "$@"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what" "\$ $*"; fi; }

command -v dkms >/dev/null || { fail "dkms is not installed (make deps)"; exit 0; }
[ -d "/lib/modules/$KVER/build" ] || { fail "no headers for $KVER (linux-headers-$KVER)"; exit 0; }
[ -f cli/dist/commands/install.js ] || { fail "cli not built (make cli)"; exit 0; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
usbvnet() { node cli/bin/run.js "$@" --root "$root" --kernel "$KVER"; }
version=$(node -p 'require("./package.json").version')
q() { jq -c -r "$1" "$root.json"; }
step() { q ".steps[] | select(.step == \"$1\") | .status"; }

start=$SECONDS
usbvnet install --json >"$root.json" 2>"$root.err"
rc=$?
check "install with DKMS exits 0 ($((SECONDS - start)) s)" test "$rc" = 0 || cat "$root.err" >&2
check "install: sources and DKMS done" test "$(step source) $(step dkms)" = "done done"
check "the DKMS step says what it did" bash -c "[[ \"$(q '.steps[] | select(.step == "dkms") | .detail')\" == usbvnet/$version\ for\ $KVER:\ added,\ built\ in\ *\ s,\ installed ]]"
ko=$root/lib/modules/$KVER/updates/dkms/usbvnet.ko
check "the module is installed for $KVER" test "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" = "$KVER"
check "DKMS knows usbvnet/$version installed for $KVER" \
	bash -c "dkms status --dkmstree '$root/var/lib/dkms' --sourcetree '$root/usr/src' --installtree '$root/lib/modules' usbvnet | grep -qx 'usbvnet/$version, $KVER, $(uname -m): installed'"
check "modinfo finds it through depmod's index" test "$(modinfo -b "$root" -k "$KVER" -F filename usbvnet 2>/dev/null)" = "$ko"
usbvnet install --json >"$root.json" 2>"$root.err"
check "a second install builds nothing: source and dkms already" test "$(step source) $(step dkms)" = "already already"
usbvnet doctor --json >"$root.json" 2>"$root.err"
check "doctor: module and dkms ok" test "$(q '[.checks[] | select(.check == "module" or .check == "dkms") | .status] | join(" ")')" = "ok ok"
# A changed source is rebuilt (an upgrade within one version, or a damaged tree).
echo '/* changed */' >>"$root/usr/src/usbvnet-$version/linux-module/main.c"
usbvnet install --json >"$root.json" 2>"$root.err"
check "changed sources are put back and rebuilt" bash -c "[ '$(step source) $(step dkms)' = 'done done' ] && [[ \"$(q '.steps[] | select(.step == "dkms") | .detail')\" == *'sources changed, removed the old build'* ]]"
usbvnet uninstall --purge --json >"$root.json" 2>"$root.err"
check "uninstall --purge exits 0" test "$(q .ok)" = true
check "uninstall removed DKMS's entry and the sources" test "$(step dkms)" = done
left=$(cd "$root" && find . ! -type d ! -path "./lib/modules/$KVER/modules.*" | sort)
check "nothing left behind but depmod's index" test -z "$left" || echo "$left" >&2
rm -f "$root.json" "$root.err"

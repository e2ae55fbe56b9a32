#!/usr/bin/env bash
# Host side: packs what `node cli/bin/run.js` loads (package.json, cli/bin,
# cli/dist, schemas, node_modules without build-time packages) into
# build/vm/cli-runtime.tar, rebuilt only when an input changed. A scenario
# unpacks it to the guest's tmpfs (cli_runtime_unpack below) because loading
# the ~500 files of a command over 9p under TCG takes 20-50 s per command,
# against ~5 s from tmpfs; reading one tar over 9p takes a second or two.
#
#   bash test/vm/lib/cli-runtime.sh [OUTDIR]     (host; run-scenarios.sh does it)
#   . "$VM_LIB/cli-runtime.sh"; cli_runtime_unpack   (guest; sets CLI_ROOT)
#
# Without the tar (not built, or cli/ not built) CLI_ROOT stays $USBVNET_SRC.

cli_runtime_unpack() {
	CLI_ROOT=${USBVNET_SRC:?}
	local tar=$USBVNET_SRC/build/vm/cli-runtime.tar dest=/tmp/usbvnet-cli
	[ -f "$tar" ] || return 0
	mkdir -p "$dest" && tar -C "$dest" -xf "$tar" && CLI_ROOT=$dest
}

cli_runtime_build() {
	local top out
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
	out=${1:-$top/build/vm}/cli-runtime.tar
	[ -f "$top/cli/dist/commands/status.js" ] || { rm -f "$out"; return 0; }
	if [ -f "$out" ] && [ -z "$(cd "$top" && find package.json cli/bin cli/dist schemas node_modules -newer "$out" -print -quit)" ]; then
		return 0
	fi
	mkdir -p "$(dirname "$out")"
	tar -C "$top" -cf "$out.tmp.$$" \
		--exclude=node_modules/typescript --exclude='node_modules/@types' \
		--exclude=node_modules/koffi/vendor --exclude=node_modules/koffi/doc \
		--exclude='*.map' --exclude='*.d.ts' --exclude='*.test.js' \
		package.json cli/bin cli/dist schemas node_modules || return 1
	# An oclif manifest (as "make cli" writes it), so that a command loads
	# only its own module instead of every command's (about 40% fewer files).
	local m
	m=$(mktemp -d)
	if node "$top/cli/scripts/manifest.mjs" "$m/oclif.manifest.json" >/dev/null; then
		tar -C "$m" -rf "$out.tmp.$$" oclif.manifest.json || { rm -rf "$m"; return 1; }
	fi
	rm -rf "$m"
	mv -f "$out.tmp.$$" "$out"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	cli_runtime_build "$@"
fi

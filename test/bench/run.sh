#!/usr/bin/env bash
# `make bench`: runs each benchmark in its own lab VM and prints its report.
# Figures are ratios against reference runs in the same guest, never
# pass/fail: software emulation makes absolute numbers meaningless.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../vm/lib/vm.sh"
vm_setup && vm_initramfs || exit 1
# The CLI as one tar the guest unpacks to tmpfs (vusb-throughput runs `usbvnet vusb`).
bash "$here/../vm/lib/cli-runtime.sh" "$VM_BUILD" || echo "bench: no CLI runtime tar; the CLI loads over 9p (slow)"
status=0
(($#)) || set -- "$here/bridge-throughput.sh" "$here/many-throughput.sh" "$here/dhcp-rate.sh" \
	"$here/dhcp-cable-in.sh" "$here/vusb-throughput.sh"
for b in "$@"; do
	name=bench-$(basename "$b" .sh)
	# A benchmark's "# vm-timeout: SECS" header line, else 900 s.
	timeout=$(sed -n 's/^# vm-timeout: *//p' "$b" | head -n 1)
	VM_TIMEOUT=${VM_TIMEOUT:-${timeout:-900}} vm_run "$name" "bash $(printf %q "test/bench/$(basename "$b")")" || status=1
	cat "$VM_RUN_DIR/output.log" 2>/dev/null | grep -v '^lab: '
	((status == 0)) || vm_console_tail 30
done
exit $status

#!/usr/bin/env bash
# make demo: boots the lab, loads usbvnet (if built), plugs an ECM, an NCM and
# an RNDIS device and shows what usbvnet0 makes of them, live:
#
#   host netns                                dev-<kind> netns
#   ┌───────────────────────────────┐        ┌──────────────────────────┐
#   │ usbvnet0 100.127.254.1 (DHCP) │        │ dev-ecm   DHCP lease     │
#   │   slot s  cdc_ether   ════════╪═ USB ══╪═ usbN (ECM gadget)       │
#   │   slot s  cdc_ncm     ════════╪═ USB ══╪═ dev-ncm   (NCM gadget)  │
#   │   slot s  rndis_host  ════════╪═ USB ══╪═ dev-rndis (RNDIS gadget)│
#   └───────────────────────────────┘        └──────────────────────────┘
#
# Without linux-module/usbvnet.ko (or if usbvnet0 does not appear) it shows
# the three devices addressed directly (10.77.<n>.0/24) instead.
#
#   test/vm/demo.sh            on the host (KVER from the environment or the
#                              newest in /lib/modules)
#   test/vm/demo.sh --guest    what runs inside the VM
#   DEMO_NO_MODULE=1 test/vm/demo.sh   the direct variant even if built
set -euo pipefail

if [ "${1:-}" != --guest ]; then
	here=$(cd "$(dirname "$0")" && pwd)
	# shellcheck source=lib/vm.sh
	. "$here/lib/vm.sh"
	vm_setup
	vm_initramfs
	# The CLI as a tar the guest unpacks to tmpfs, when that helper exists.
	[ ! -f "$here/lib/cli-runtime.sh" ] || bash "$here/lib/cli-runtime.sh" "$VM_BUILD" || true
	# Live console, kernel messages kept quiet (the console log has them).
	rc=0
	VM_LIVE=1 VM_LOGLEVEL=1 VM_TIMEOUT=${VM_TIMEOUT:-600} \
		vm_run demo "DEMO_NO_MODULE=${DEMO_NO_MODULE:-0} bash \"\$USBVNET_SRC/test/vm/demo.sh\" --guest" || rc=$?
	case $rc in
	0) echo "demo: done (console log: ${VM_RUN_DIR#"$VM_TOP"/}/console.log)" ;;
	124) echo "demo: the VM timed out"; vm_console_tail 30 ;;
	*) echo "demo: failed with status $rc"; vm_console_tail 30 ;;
	esac
	exit "$rc"
fi

# ---- in the guest ------------------------------------------------------------
# shellcheck source=lib/lab.sh
. "$VM_LIB/lab.sh"
trap lab_cleanup EXIT
dmesg -n 1 # keep kernel chatter off the live console

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "usbvnet lab: kernel $(uname -r), $(nproc) CPUs"
lab_init 3

mode=direct
if [ "${DEMO_NO_MODULE:-0}" = 1 ]; then
	echo "demo: DEMO_NO_MODULE=1: showing the devices directly"
elif usbvnet_have_module; then
	if usbvnet_load; then
		mode=usbvnet
		say "usbvnet0 exists before any device: carrier off, a stable MAC"
		pp ip link set usbvnet0 up
		ip -br link show usbvnet0
	else
		echo "demo: usbvnet.ko did not give usbvnet0; showing the devices directly"
	fi
else
	echo "demo: no $USBVNET_KO (make module); showing the devices directly"
fi

kinds=(ecm ncm rndis)
say "plugging an ECM, an NCM and an RNDIS device"
for k in "${kinds[@]}"; do
	gadget_create "$k" "$k" serial="DEMO-${k^^}"
	gadget_plug "$k"
done
for k in "${kinds[@]}"; do
	hif=$(gadget_wait_host "$k" 30)
	echo "demo: $k enumerated: $hif bound to $(gadget_host_driver "$k")"
done

have_cli() { [ -f "$USBVNET_SRC/cli/bin/run.js" ] && [ -d "$USBVNET_SRC/cli/dist" ]; }
if have_cli && [ -f "$VM_LIB/cli-runtime.sh" ]; then
	# shellcheck source=lib/cli-runtime.sh
	. "$VM_LIB/cli-runtime.sh"
	cli_runtime_unpack || true
fi

attached() { ip -o link show "$1" | grep -q 'master usbvnet0'; }

if [ "$mode" = usbvnet ]; then
	for k in "${kinds[@]}"; do
		hif=$(gadget_host_if "$k")
		wait_for 10 attached "$hif" || echo "demo: $hif is not attached to usbvnet0"
	done
	# Zero configuration: the driver's own DHCP server addresses the host
	# and every device.
	hook=$USBVNET_SRC/test/vm/tools/udhcpc.script
	export UDHCPC_OUT=/tmp
	say "DHCP from the driver: the host's client on usbvnet0, then each device"
	pp udhcpc -i usbvnet0 -n -q -t 5 -T 1 -A 1 -s "$hook" 2>&1 | grep -v '^udhcpc: \(started\|broadcasting\)' || true
	for k in "${kinds[@]}"; do
		gadget_netns "$k"
		gadget_wait_carrier "$k" 10 || true
		ip netns exec "dev-$k" udhcpc -i "$(gadget_dev_if "$k")" -n -q -t 5 -T 1 -A 1 -s "$hook" 2>&1 |
			sed -n "s/^udhcpc: lease of/demo: $k got/p"
	done
	ip -br addr show usbvnet0
	say "ip -d link show usbvnet0"
	ip -d link show usbvnet0
	say "slots"
	if have_cli; then
		usbvnet_cli slots || true
	else
		echo "(no CLI: make cli)"
		ip -o link show master usbvnet0 || true
	fi
	say "ping over usbvnet0 from the host to each device"
	for k in "${kinds[@]}"; do
		addr=$(ip -n "dev-$k" -4 -o addr show | awk '$2 != "lo" { split($4, a, "/"); print a[1] }')
		pp ping -c 3 -i 0.3 -W 2 "$addr" || echo "demo: no answer from $k ($addr)"
	done
else
	i=0
	for k in "${kinds[@]}"; do
		i=$((i + 1))
		gadget_netns "$k" "10.77.$i.2/24"
		gadget_host_ip "$k" "10.77.$i.1/24"
		gadget_wait_carrier "$k" 10 || true
	done
	say "USB network devices on the host side"
	for k in "${kinds[@]}"; do
		ip -br link show "$(gadget_host_if "$k")"
	done
	say "direct pings from the host to each device"
	i=0
	for k in "${kinds[@]}"; do
		i=$((i + 1))
		pp ping -c 3 -i 0.3 -W 2 "10.77.$i.2" || echo "demo: no answer from $k"
	done
fi
say "unplugging"
for k in "${kinds[@]}"; do
	gadget_unplug "$k"
done

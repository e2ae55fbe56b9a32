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
# Then a web service on an emulated USB device (vusb, the CLI's `vusb serve`):
# test/vm/vusb/web-phone.json is an ECM device whose network side is a TAP in
# netns "phone", where a small HTTP server runs and udhcpd answers DHCP as a
# tethering phone does (test/vm/vusb/phone.sh). `vusb attach` plugs it in
# through vhci_hcd; the host's DHCP client, as NetworkManager would, gets an
# address from the phone, and the page is there; unplugged, it is gone.
# (usbvnet is unloaded for this part: it would enslave the phone's interface
# and answer DHCP itself, where the point here is the phone's own server.)
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

# ---- vusb: a web service on an emulated USB device ------------------------------
demo_vusb() {
	local V=$USBVNET_SRC/test/vm/vusb dir=/tmp/demo-vusb ctl=/tmp/demo-vusb/vusb.sock serve_pid pif usb= i
	local vusb=(node "$CLI_ROOT/cli/bin/run.js" vusb)
	mkdir -p "$dir"
	# shellcheck source=vusb/phone.sh
	. "$V/phone.sh"
	say "a web service on an emulated USB device (vusb): a phone tethering over USB"
	if [ -d /sys/class/net/usbvnet0 ]; then
		echo "demo: unloading usbvnet for this part: the phone answers DHCP itself"
		usbvnet_unload
	fi
	modprobe -a vhci-hcd cdc_ether tun
	phone_netns
	show() { printf '+ %s\n' "$*"; }
	show usbvnet vusb serve test/vm/vusb/web-phone.json "&"
	"${vusb[@]}" serve "$V/web-phone.json" --control "$ctl" >"$dir/serve.log" 2>&1 &
	serve_pid=$!
	wait_for 90 test -S "$ctl" || { echo "demo: vusb serve did not start"; tail -n 5 "$dir/serve.log"; kill "$serve_pid"; return 1; }
	phone_start "$dir"
	echo "demo: the phone's side (netns $PHONE_NS): $(ip -n "$PHONE_NS" -br addr show "$PHONE_IF")"
	say "plugging it in: usbvnet vusb attach 1-1 (USB/IP over loopback into vhci_hcd)"
	show usbvnet vusb attach 1-1
	"${vusb[@]}" attach 1-1 || true
	for i in $(seq 100); do
		for d in /sys/bus/usb/devices/*; do
			[ "$(cat "$d/idVendor" 2>/dev/null):$(cat "$d/idProduct" 2>/dev/null)" = 1209:0011 ] && usb=${d##*/}
		done
		[ -n "$usb" ] && [ -d "/sys/bus/usb/devices/$usb:1.0/net" ] && break
		nap 0.2
	done
	pif=$(ls "/sys/bus/usb/devices/$usb:1.0/net" 2>/dev/null | head -n 1)
	if [ -z "$pif" ]; then
		echo "demo: the phone's network interface did not appear"
	else
		echo "demo: new interface $pif ($(readlink "/sys/class/net/$pif/device/driver" | xargs basename), \"$(cat "/sys/bus/usb/devices/$usb/product")\")"
		say "the host asks for an address on $pif, as NetworkManager would; the phone answers"
		export UDHCPC_OUT=$dir
		pp udhcpc -i "$pif" -n -q -t 5 -T 2 -A 1 -s "$USBVNET_SRC/test/vm/tools/udhcpc.script" 2>&1 |
			grep -v '^udhcpc: \(started\|broadcasting\)' || true
		ip -br addr show "$pif"
		say "the phone's web page"
		pp curl -sS --max-time 20 "http://$PHONE_IP/" || echo "demo: no answer from the phone"
		say "unplugging it from the serving side: usbvnet vusb unplug 1-1"
		"${vusb[@]}" unplug 1-1 --control "$ctl" >/dev/null || true
		wait_for 20 test ! -e "/sys/class/net/$pif" && echo "demo: $pif is gone"
		pp curl -sS --max-time 3 "http://$PHONE_IP/" || echo "demo: and so is the page"
	fi
	kill "$serve_pid" 2>/dev/null
	wait "$serve_pid" 2>/dev/null
	phone_stop
}
if have_cli; then
	demo_vusb || echo "demo: the vusb part failed"
else
	echo "demo: no CLI (make cli): skipping the vusb web service"
fi

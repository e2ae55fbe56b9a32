#!/usr/bin/env bash
# 00-lab: proves the lab itself, without usbvnet. One gadget of each kind is
# plugged, bound by its host driver, addressed directly and pinged both
# ways, then unplugged. Then every UDC at once: 32 ECM gadgets, one of them
# carrying a second ECM function (33 host-side netdevs), and one device
# re-attached through usbip over loopback (vhci_hcd).
#
#   init netns                               netns dev-<name>
#   ┌──────────────────────────┐  dummy_hcd  ┌───────────────────────┐
#   │ usbN (cdc_ether, ...)    │◄═══════════►│ usbM (gadget, u_ether)│
#   │ 10.77.<i>.1/24           │  UDC <i>    │ 10.77.<i>.2/24        │
#   └──────────────────────────┘             └───────────────────────┘
# vm-timeout: 480
set -euo pipefail
. "$VM_LIB/lab.sh"
trap lab_cleanup EXIT

now() { echo "${EPOCHREALTIME}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
on_bus() { [[ $(gadget_usb_dev "$1") == *"$2"* ]]; }
no_usb_netdevs() {
	local d
	for d in /sys/class/net/*/device/driver; do
		[ ! -e "$d" ] || { echo "left: $d"; return 1; }
	done
}

lab_init 32

declare -A driver=([ecm]=cdc_ether [ncm]=cdc_ncm [rndis]=rndis_host [eem]=cdc_eem)

# ---- one of each kind, direct addressing ---------------------------------
i=0
for t in ecm ncm rndis eem; do
	i=$((i + 1))
	t0=$(now)
	gadget_add "$t" "$t" ip=10.77.$i.2/24 hostip=10.77.$i.1/24
	echo "lab: $t plugged, bound and addressed in $(since "$t0") s"
	check "$t: host side bound to ${driver[$t]}" \
		test "$(gadget_host_driver "$t")" = "${driver[$t]}"
	[ "$t" = eem ] || check "$t: host-side MAC is host_addr" \
		test "$(cat "/sys/class/net/$(gadget_host_if "$t")/address")" = "$(_gget "$t" host_addr)"
	check "$t: host pings device" ping -c 2 -i 0.2 -W 2 -I "$(gadget_host_if "$t")" 10.77.$i.2
	check "$t: device pings host" dev "$t" ping -c 2 -i 0.2 -W 2 10.77.$i.1
done

# Replug: the same host-side netdev (by MAC) comes back and carries traffic.
gadget_unplug ecm
check_wait "ecm: host side gone after unplug" 15 gadget_gone ecm
gadget_plug ecm
check "ecm: host side back after replug" gadget_wait_host ecm 15
gadget_host_ip ecm 10.77.1.1/24
check "ecm: carrier after replug" gadget_wait_carrier ecm
check "ecm: host pings device after replug" ping -c 2 -i 0.2 -W 2 10.77.1.2

for t in ecm ncm rndis eem; do
	gadget_unplug "$t"
	check_wait "$t: host side gone after unplug" 15 gadget_gone "$t"
done
gadget_remove_all
check "no device namespaces left" test -z "$(ip netns list)"

# ---- all 32 UDCs at once, plus a 33rd netdev on the last one -------------
n=32
t0=$(now)
for i in $(seq 1 $n); do
	gadget_create "e$i" ecm
done
gadget_create e33 ecm with=e32
echo "lab: $n ECM gadgets (33 functions) created in $(since "$t0") s"
t0=$(now)
for i in $(seq 1 $n); do
	gadget_plug "e$i"
done
ok=1
for i in $(seq 1 33); do
	gadget_wait_host "e$i" 120 >/dev/null || ok=0
done
took=$(since "$t0")
echo "lab: $n ECM gadgets (33 netdevs) plugged and enumerated in $took s"
check "32 UDCs: 33 host-side netdevs (took $took s)" test $ok = 1
bound=0
for i in $(seq 1 33); do
	[ "$(gadget_host_driver "e$i")" = cdc_ether ] && bound=$((bound + 1))
done
check "32 UDCs: all 33 bound to cdc_ether ($bound)" test $bound = 33
check "e32 and e33 are one USB device" \
	test "$(gadget_usb_dev e32)" = "$(gadget_usb_dev e33)"

# Traffic through a sample of them (every exec costs under TCG).
sample=(e1 e16 e32 e33)
specs=()
for d in "${sample[@]}"; do
	i=${d#e}
	specs+=("$d:10.77.$((100 + i)).2/24:10.77.$((100 + i)).1/24")
done
gadget_netns_many "${specs[@]}"
failed=
for d in "${sample[@]}"; do
	i=${d#e}
	gadget_wait_carrier "$d" 10 && ping -c 1 -W 2 "10.77.$((100 + i)).2" >/dev/null || failed+=" $d"
done
check "33 devices: host pings ${sample[*]}${failed:+ (failed:$failed)}" test -z "$failed"

# ---- usbip loopback: a device re-attached through vhci_hcd -----------------
t0=$(now)
usbip_reexport e1 30 || true
echo "lab: e1 re-attached through usbip in $(since "$t0") s"
check "usbip: e1's host side is back on a vhci bus" on_bus e1 vhci_hcd
gadget_host_ip e1 10.77.101.1/24
check "usbip: carrier on e1" gadget_wait_carrier e1
check "usbip: host pings e1 through vhci" ping -c 2 -i 0.2 -W 2 10.77.101.2
usbip_detach e1 || true
check "usbip: e1's host side back on dummy_hcd after detach" on_bus e1 dummy_hcd

t0=$(now)
gadget_remove_all
echo "lab: 33 devices removed in $(since "$t0") s"
check "33 devices: no host-side USB netdevs left" no_usb_netdevs

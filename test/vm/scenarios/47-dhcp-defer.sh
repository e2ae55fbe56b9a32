# vm-timeout: 120
# Replies for a device whose link has no carrier yet wait for it (up to
# 2 s) rather than being dropped, and a device that never gets carrier
# cannot take another's room: at most 4 replies wait per device, the rest
# are dropped and counted on its slot. Devices here are TAPs attached the
# way iproute2 attaches to a bridge or a bond: ip link set X master usbvnet0.
#
#   uvbad:  12 INFORMs, carrier never comes     -> 4 wait, 8 dropped; the
#           4 are dropped after 2 s, and counted on its slot too
#   uvgood:  2 INFORMs, carrier after 0.5 s     -> both answered
. "$VM_LIB/lab.sh"
trap 'kill $(jobs -p) 2>/dev/null; lab_cleanup' EXIT
tap=$USBVNET_SRC/test/vm/tools/tap-dhcp.py
ctl=$USBVNET_SRC/build/vm/tools/ioctl-test
slot_of() { "$ctl" slot-of "$1"; } # the slot whose lower is $1, or none
# SLOT FIELD N, read again on every try of check_wait
counter_is() {
	local v
	v=$("$ctl" slot "$1" | sed -n "s/^$2=//p")
	echo "$2=$v"
	test "$v" = "$3"
}

modprobe tun
# No IPv6 chatter from the host: every frame a slot drops is then a reply.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
usbvnet_load
ip link set usbvnet0 up

check_not "ip link set lo master usbvnet0 is refused" ip link set lo master usbvnet0
check "saying why" bash -c "ip link set lo master usbvnet0 2>&1 | grep -q 'only Ethernet devices'"

start() { # NAME COUNT CARRIER_AFTER LISTEN: the TAP attached, its requests sent
	python3 "$tap" "$1" "$2" "$3" "$4" >"$USBVNET_OUT/$1.out" 2>&1 &
	wait_for 10 grep -q created "$USBVNET_OUT/$1.out"
	ip link set "$1" master usbvnet0 && wait_for 10 grep -q sent "$USBVNET_OUT/$1.out"
}
# Run here, not under check: the TAPs' processes must stay this shell's jobs.
start uvbad 12 -1 6 && r=attached || r=failed
t_sent=$(date +%s%N)
bad_slot=$(slot_of uvbad)
check "ip link set uvbad master usbvnet0 attaches it" test "$r" = attached
check "it takes a slot" test "$bad_slot" != none
check "ip link shows usbvnet0 as its master" bash -c "ip -o link show uvbad | grep -q 'master usbvnet0'"
check_wait "its replies beyond 4 are dropped and counted on its slot" 5 counter_is "$bad_slot" tx_dropped 8
check_wait "the 4 that waited are dropped after 2 s, and counted" 6 counter_is "$bad_slot" tx_dropped 12
waited_ms=$((($(date +%s%N) - t_sent) / 1000000))
check "not before (${waited_ms} ms after the requests went out)" test "$waited_ms" -ge 1000
start uvgood 2 0.5 5 && r=attached || r=failed
check "the second device attaches too" test "$r" = attached
check "ip link set uvgood nomaster detaches it" bash -c "sleep 1.5; ip link set uvgood nomaster && ! test -e /sys/class/net/usbvnet0/lower_uvgood"
check "and master attaches it again" ip link set uvgood master usbvnet0
wait
cat "$USBVNET_OUT/uvbad.out" "$USBVNET_OUT/uvgood.out"
check "the device without carrier got no reply" grep -q '^replies=0$' "$USBVNET_OUT/uvbad.out"
check "the other device got both replies once its carrier came" grep -q '^replies=2$' "$USBVNET_OUT/uvgood.out"
check "the TAPs went with their processes, and their slots" test "$("$ctl" info | sed -n 's/^slots_used=//p')" = 0

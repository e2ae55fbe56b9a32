# Real DHCP clients against the in-driver server, for the DHCP scenarios.
# Sourced after lab.sh:
#   dhcp_plug NAME TYPE SERIAL     gadget plugged, attached to usbvnet0, its
#                                  device netdev in dev-NAME with carrier
#   dhcp_exchange NETNS|host IFACE [udhcpc options]
#                                  one exchange with busybox udhcpc, then it
#                                  exits (DHCP_TRIES DISCOVERs, 1 s apart;
#                                  later options win, e.g. -t 2)
#   dhcp_leases NETNS|host IFACE IP [udhcpc options]
#                                  an exchange that ends with IP leased
#   dhcp_lease_ip NETNS|host       the address of the last exchange there
#   dhcp_counter NAME              one of the server's counters (GET_DHCP)
# The client's hook writes each exchange to $UDHCPC_OUT/lease.NETNS.

DHCP_TRIES=${DHCP_TRIES:-4}
DHCP_HOOK=$USBVNET_SRC/test/vm/tools/udhcpc.script
DHCP_CTL=$USBVNET_SRC/build/vm/tools/ioctl-test
export UDHCPC_OUT=$USBVNET_OUT

dhcp_plug() {
	gadget_create "$1" "$2" serial="$3" >/dev/null
	gadget_plug "$1" >/dev/null
	gadget_wait_host "$1" >/dev/null
	wait_for 5 test -e "/sys/class/net/$USBVNET_IF/lower_$(gadget_host_if "$1")"
	gadget_netns "$1" >/dev/null
	gadget_wait_carrier "$1" >/dev/null
}

dhcp_exchange() {
	local ns=$1 ifc=$2 in_ns=()
	shift 2
	[ "$ns" = host ] || in_ns=(ip netns exec "$ns")
	rm -f "$UDHCPC_OUT/lease.$ns"
	"${in_ns[@]}" udhcpc -i "$ifc" -n -q -t "$DHCP_TRIES" -T 1 -A 1 -s "$DHCP_HOOK" "$@"
}

dhcp_leases() {
	local ns=$1 ifc=$2 want=$3 got
	shift 3
	dhcp_exchange "$ns" "$ifc" "$@" || return 1
	got=$(dhcp_lease_ip "$ns")
	[ "$got" = "$want" ] || { echo "leased ${got:-nothing}, not $want"; return 1; }
}

dhcp_lease_ip() { sed -n 's/^ip=//p' "$UDHCPC_OUT/lease.$1" 2>/dev/null; }
dhcp_counter() { "$DHCP_CTL" dhcp | sed -n "s/^$1=//p"; }

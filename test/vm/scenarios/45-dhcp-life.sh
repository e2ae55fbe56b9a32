# vm-timeout: 240
# A lease's life with real clients on a pool of three addresses: renewing
# (udhcpc's SIGUSR1: unicast REQUEST with ciaddr), rebinding (broadcast
# REQUEST with ciaddr, no server id), DECLINE (udhcpc -a finds the address
# in use by someone unknown: parked for decline_seconds, not offered
# meanwhile), and exhaustion (one client more than the pool gets no offer,
# counted; the others keep their leases).
#
#   host usbvnet0: 100.127.254.1 (static here)
#   dev-e1 (ECM): udhcpc -f, renews on SIGUSR1
#   dev-n1 (NCM): udhcpc; mv0, a macvlan on its device link moved to dev-mv,
#                 is a third client with its own MAC behind the same slot
. "$VM_LIB/lab.sh"
. "$VM_LIB/dhcp.sh"
# Clients that must fail (DECLINE, exhaustion) give up after 3 s.
DHCP_TRIES=3
trap lab_cleanup EXIT
lab_init 2
tools=$USBVNET_SRC/build/vm/tools
ctl=$tools/ioctl-test
net=100.127.254
answer_is() { # WANT NETNS IFACE KIND ARG: dhcp-send's answer starts with WANT
	local want=$1 got
	shift
	got=$(ip netns exec "$1" "$tools/dhcp-send" "$2" "$3" "$4")
	echo "answer: $got"
	[[ $got == "$want"* ]]
}

kmsg_mark "45-dhcp-life"
usbvnet_load
ip link set usbvnet0 up
ip addr add "$net.1/24" dev usbvnet0
check "a pool of three, declines held 30 s" \
	"$ctl" dhcp-set pool_start=$net.2 pool_end=$net.4 decline_seconds=30 per_slot_cap=8
check_not "a pool outside the subnet is refused" "$ctl" dhcp-set pool_end=100.127.255.9
dhcp_plug e1 ecm E1
dhcp_plug n1 ncm N1
e1_if=$(gadget_dev_if e1) n1_if=$(gadget_dev_if n1)

# Renewing: a running client renews on SIGUSR1 by unicast to the server.
rm -f "$UDHCPC_OUT/lease.dev-e1"
ip netns exec dev-e1 udhcpc -i "$e1_if" -f -t 4 -T 1 -A 1 -s "$DHCP_HOOK" \
	>"$USBVNET_OUT/udhcpc-e1.log" 2>&1 &
e1_client=$!
check_wait "ECM device's client is bound" 30 grep -q '^event=bound' "$UDHCPC_OUT/lease.dev-e1"
e1_ip=$(dhcp_lease_ip dev-e1)
check "NCM device gets a lease" dhcp_exchange dev-n1 "$n1_if"
n1_ip=$(dhcp_lease_ip dev-n1)
echo "leases: e1 $e1_ip, n1 $n1_ip"
acks=$(dhcp_counter ack) requests=$(dhcp_counter request)
kill -USR1 "$e1_client"
check_wait "renewing: SIGUSR1's REQUEST is ACKed" 15 grep -q '^event=renew' "$UDHCPC_OUT/lease.dev-e1"
check "renewing keeps the address" test "$(dhcp_lease_ip dev-e1)" = "$e1_ip"
check "one more REQUEST and ACK counted" \
	test "$(dhcp_counter request)" -gt "$requests" -a "$(dhcp_counter ack)" -gt "$acks"
check "the renew went unicast to the server" grep -q "renew.*$net.1" "$USBVNET_OUT/udhcpc-e1.log"

# Rebinding: broadcast, ciaddr set, no server id.
check "rebinding the NCM device's address is ACKed" answer_is "ack $n1_ip" dev-n1 "$n1_if" rebind "$n1_ip"
naks=$(dhcp_counter nak)
check "rebinding another client's address is NAKed, saying why" \
	answer_is "nak 0.0.0.0 requested address in use by another client" dev-n1 "$n1_if" rebind "$e1_ip"
check "and counted" test "$(dhcp_counter nak)" -gt "$naks"
check "that NAK took nothing from the ECM device" bash -c "\"$ctl\" leases | grep -q '^$e1_ip bound'"

# DECLINE: the last free address answers ARP (the host holds it), so a
# client that checks with ARP (-a) declines it; the pool is then used up.
for c in $net.2 $net.3 $net.4; do
	[ "$c" = "$e1_ip" ] || [ "$c" = "$n1_ip" ] || free_ip=$c
done
modprobe macvlan
ip netns add dev-mv
ip netns exec dev-n1 ip link add mv0 link "$n1_if" type macvlan mode bridge
ip netns exec dev-n1 ip link set mv0 netns dev-mv
ip netns exec dev-mv ip link set mv0 up
ip addr add "$free_ip/32" dev usbvnet0
declines=$(dhcp_counter decline) exhausted=$(dhcp_counter exhausted)
check_not "a client finding its offered $free_ip in use gets no lease" dhcp_exchange dev-mv mv0 -a
check "it declined the address" test "$(dhcp_counter decline)" -gt "$declines"
check "the address is parked as declined" bash -c "\"$ctl\" leases | grep -q '^$free_ip declined'"
check "its retry found the pool exhausted, counted" test "$(dhcp_counter exhausted)" -gt "$exhausted"
ip addr del "$free_ip/32" dev usbvnet0
check "meanwhile a newcomer asking for it gets no offer" answer_is none dev-mv mv0 discover-ip "$free_ip"
check_wait "after decline_seconds it is offered again" 60 \
	dhcp_leases dev-mv mv0 "$free_ip" -t 2

# Exhaustion: three clients hold the three addresses; a fourth gets nothing.
exhausted=$(dhcp_counter exhausted) offers=$(dhcp_counter offer)
check "one client more than the pool gets no offer" answer_is none dev-mv mv0 discover-ip "$net.9"
check "exhausted is counted" test "$(dhcp_counter exhausted)" -gt "$exhausted"
check "and no offer was made" test "$(dhcp_counter offer)" = "$offers"
check "the three others keep their leases" test "$("$ctl" leases | grep -c ' bound ')" = 3
rm -f "$UDHCPC_OUT/lease.dev-e1"
kill -USR1 "$e1_client"
check_wait "the ECM device still renews its address" 15 \
	bash -c "grep -q '^event=renew' $UDHCPC_OUT/lease.dev-e1 && [ \$(sed -n 's/^ip=//p' $UDHCPC_OUT/lease.dev-e1) = $e1_ip ]"
check "the host reaches all three" bash -c "ping -c 1 -W 2 $e1_ip && ping -c 1 -W 2 $n1_ip && ping -c 1 -W 2 $free_ip"
kill "$e1_client" 2>/dev/null
wait "$e1_client" 2>/dev/null
"$ctl" leases
check_dmesg_clean

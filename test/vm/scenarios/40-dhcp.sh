# vm-timeout: 400
# The DHCP server inside usbvnet: real udhcpc clients on the host and in
# device namespaces, reservations, replug, release, the per-slot cap,
# malformed requests from a raw socket, and the lease table across a reload.
#
#   host: udhcpc -i usbvnet0  ──> 100.127.254.1 (the configured host address)
#   dev-e1 (ECM, serial E1), dev-n1 (NCM, serial N1): udhcpc ──> pool .2 … .254
. "$VM_LIB/lab.sh"
. "$VM_LIB/dhcp.sh"
trap lab_cleanup EXIT
lab_init 3
tools=$USBVNET_SRC/build/vm/tools
ctl=$tools/ioctl-test

usbvnet_load
ip link set usbvnet0 up

# usbvnet0 has carrier once a device is attached: then the host's client runs.
dhcp_plug e1 ecm E1
dhcp_plug n1 ncm N1
check "the host's own client gets the host address" dhcp_exchange host usbvnet0
check "host address is 100.127.254.1" test "$(dhcp_lease_ip host)" = 100.127.254.1
check "usbvnet0 carries it" bash -c "ip -4 addr show usbvnet0 | grep -q 100.127.254.1/24"

e1_if=$(gadget_dev_if e1) n1_if=$(gadget_dev_if n1)
check "ECM device gets a lease" dhcp_exchange dev-e1 "$e1_if"
check "NCM device gets a lease" dhcp_exchange dev-n1 "$n1_if"
e1_ip=$(dhcp_lease_ip dev-e1) n1_ip=$(dhcp_lease_ip dev-n1)
echo "leases: e1 $e1_ip, n1 $n1_ip"
check "leases come from the pool and differ" bash -c "[[ $e1_ip == 100.127.254.* && $n1_ip == 100.127.254.* && $e1_ip != $n1_ip && $e1_ip != 100.127.254.1 ]]"
check "router option names the host" grep -q '^router=100.127.254.1$' "$UDHCPC_OUT/lease.dev-e1"
check "host pings the ECM device at its leased address" ping -c 2 -W 2 "$e1_ip"
check "NCM device pings the host" dev n1 ping -c 2 -W 2 100.127.254.1
check "devices reach each other" dev e1 ping -c 2 -W 2 "$n1_ip"
check "two leases bound besides the host's" test "$(dhcp_counter leases_bound)" -ge 2

# Replug keeps the address; RELEASE frees and is counted.
gadget_unplug e1 >/dev/null
gadget_wait_gone e1 >/dev/null
plug_again() { gadget_plug "$1" >/dev/null; gadget_wait_host "$1" >/dev/null; gadget_wait_carrier "$1" >/dev/null; }
plug_again e1
check "replugged device gets the same address" dhcp_leases dev-e1 "$e1_if" "$e1_ip"
released=$(dhcp_counter release)
# A client that releases on exit (-R), stopped the way a service manager does.
rm -f "$UDHCPC_OUT/lease.dev-e1"
ip netns exec dev-e1 udhcpc -i "$e1_if" -f -R -t 4 -T 1 -A 1 -s "$DHCP_HOOK" >/dev/null 2>&1 &
client=$!
wait_for 10 grep -q bound "$UDHCPC_OUT/lease.dev-e1"
kill -TERM "$client"
wait "$client"
check_wait "RELEASE is counted" 3 test "$(dhcp_counter release)" -gt "$released"

# Reservations by serial and by MAC win over the pool.
"$ctl" dhcp-reserve serial N1 100.127.254.200
check "reservation by serial is honoured" dhcp_leases dev-n1 "$n1_if" 100.127.254.200
e1_mac=$(ip netns exec dev-e1 cat "/sys/class/net/$e1_if/address")
"$ctl" dhcp-reserve mac "$e1_mac" 100.127.254.201
check "reservation by MAC is honoured" dhcp_leases dev-e1 "$e1_if" 100.127.254.201
check "NCM device answers at its reserved address" ping -c 1 -W 2 100.127.254.200

# One slot asking for many addresses is capped; the other slot still gets one.
caps=$(dhcp_counter slot_cap)
ip netns exec dev-e1 "$tools/dhcp-send" "$e1_if" discover 12
check_wait "a slot asking for 12 addresses hits the per-slot cap" 5 test "$(dhcp_counter slot_cap)" -gt "$caps"
check "the other slot still renews its lease" dhcp_leases dev-n1 "$n1_if" 100.127.254.200

# Malformed requests: dropped and counted, nothing else disturbed.
bound=$(dhcp_counter leases_bound)
for kind in truncated:truncated bad-cookie:bad_cookie bad-option-length:bad_option \
	bad-ip-checksum:bad_ip bad-udp-length:bad_udp reply:not_request long-chaddr:bad_chaddr \
	overload-loop:overload no-end:no_end huge-hostname:received; do
	before=$(dhcp_counter "${kind#*:}")
	ip netns exec dev-n1 "$tools/dhcp-send" "$n1_if" "${kind%%:*}" || echo "dhcp-send ${kind%%:*} failed"
	check_wait "malformed ${kind%%:*} request is counted as ${kind#*:}" 3 test "$(dhcp_counter "${kind#*:}")" -gt "$before"
done
check "no lease changed by malformed requests" test "$(dhcp_counter leases_bound)" = "$bound"
check "both devices keep working" bash -c "ping -c 1 -W 2 100.127.254.200 && ping -c 1 -W 2 100.127.254.201"

# Lease table export -> module reload -> import: every lease is still there.
"$ctl" leases-export "$USBVNET_OUT/leases.bin"
before=$(dhcp_counter leases_bound)
usbvnet_unload
usbvnet_load
check "a fresh module has no leases" test "$(dhcp_counter leases_bound)" = 0
check "the exported table imports" "$ctl" leases-import "$USBVNET_OUT/leases.bin"
check "every lease is back ($before)" test "$(dhcp_counter leases_bound)" = "$before"
check_wait "NCM device is attached again" 10 bash -c "ls /sys/class/net/usbvnet0/ | grep -q lower_"

# Turned off, the server stays out of the way of another DHCP server.
"$ctl" dhcp-enable 0
disabled_before=$(dhcp_counter received)
dhcp_exchange dev-e1 "$e1_if" >/dev/null 2>&1
check "with the server off, nothing answers" test ! -s "$UDHCPC_OUT/lease.dev-e1"
check "and no request was handled" test "$(dhcp_counter received)" = "$disabled_before"

# A device OS's client: dhcpcd (a DUID-based client id, RFC 4361; it waits
# for carrier itself) gets a lease, and after a replug its INIT-REBOOT
# (REQUEST for the remembered address, no DISCOVER) gets it back. Its lease
# database is kept across the two runs, as on a device's disk.
check "dhcpcd is installed (dhcpcd-base, test/setup/deps.sh)" command -v dhcpcd
"$ctl" dhcp-enable 1
dhcp_plug p1 ecm P1
p1_if=$(gadget_dev_if p1)
mkdir -p /tmp/dhcpcd-p1
printf '%s\n' ipv4only duid noarp nodelay noipv4ll >/tmp/dhcpcd-p1.conf
dhcpcd_once() { # one lease, then exit; its log in dhcpcd.log
	ip netns exec dev-p1 unshare -m sh -c \
		'mount --bind /tmp/dhcpcd-p1 /var/lib/dhcpcd && exec dhcpcd -B -1 -d -t 10 -f /tmp/dhcpcd-p1.conf -c /bin/true "$1"' \
		sh "$p1_if" >"$USBVNET_OUT/dhcpcd.log" 2>&1
}
dhcpcd_ip() { sed -n 's/.*: leased \([0-9.]*\) for .*/\1/p' "$USBVNET_OUT/dhcpcd.log" | tail -n 1; }
check "dhcpcd gets a lease" dhcpcd_once
p1_ip=$(dhcpcd_ip)
echo "dhcpcd: $p1_ip"
check "from the pool" bash -c "[[ $p1_ip == 100.127.254.* && $p1_ip != 100.127.254.1 ]]"
ip link set usbvnet0 up # its address and state went with the reload above
ip addr replace 100.127.254.1/24 dev usbvnet0
check "the host pings dhcpcd's device" ping -c 1 -W 2 "$p1_ip"
gadget_unplug p1 >/dev/null
gadget_wait_gone p1 >/dev/null
dev p1 ip -4 addr flush dev "$p1_if"
plug_again p1
discovers=$(dhcp_counter discover)
check "after a replug dhcpcd gets a lease again" dhcpcd_once
check "the same address" test "$(dhcpcd_ip)" = "$p1_ip"
check "by INIT-REBOOT: no DISCOVER" test "$(dhcp_counter discover)" = "$discovers"
grep -q 'rebinding lease' "$USBVNET_OUT/dhcpcd.log" || sed 's/^/    dhcpcd: /' "$USBVNET_OUT/dhcpcd.log" | tail -n 20

# Rapid Commit (RFC 4039; on in dhcpcd's shipped config): a new device's
# DISCOVER is ACKed at once, no OFFER and no REQUEST. Off, the usual four.
rapid_once() { # a fresh lease database: a new client that DISCOVERs
	rm -rf /tmp/dhcpcd-p1/*
	dev p1 ip -4 addr flush dev "$p1_if"
	printf '%s\n' ipv4only duid noarp nodelay noipv4ll 'option rapid_commit' >/tmp/dhcpcd-p1.conf
	dhcpcd_once
}
offers=$(dhcp_counter offer) rapid=$(dhcp_counter rapid_commit) requests=$(dhcp_counter request)
check "dhcpcd asking for Rapid Commit gets a lease" rapid_once
check "from the pool" bash -c "[[ $(dhcpcd_ip) == 100.127.254.* ]]"
check "in one exchange: an ACK counted as rapid commit, no OFFER, no REQUEST" \
	test "$(dhcp_counter rapid_commit)/$(dhcp_counter offer)/$(dhcp_counter request)" = "$((rapid + 1))/$offers/$requests"
"$ctl" dhcp-set flags=1
check "with rapid commit off, dhcpcd gets a lease still" rapid_once
check "by OFFER and REQUEST" test "$(dhcp_counter rapid_commit)/$(dhcp_counter offer)" = "$((rapid + 1))/$((offers + 1))"
"$ctl" dhcp-set flags=3

# Devices cloned from one image sending one client id (as systemd-networkd
# does, from /etc/machine-id): each slot's device gets an address of its own.
clone_id=0x3d:ff00c10e1d0000000000000001
foreign=$(dhcp_counter foreign)
check "a clone on one slot gets a lease" dhcp_exchange dev-e1 "$e1_if" -x "$clone_id"
check "its twin on another slot, the same client id, gets one too" dhcp_exchange dev-p1 "$p1_if" -x "$clone_id"
check "the two addresses differ" bash -c "[[ -n '$(dhcp_lease_ip dev-e1)' && '$(dhcp_lease_ip dev-e1)' != '$(dhcp_lease_ip dev-p1)' ]]"
check "the shared id is counted as foreign" test "$(dhcp_counter foreign)" -gt "$foreign"

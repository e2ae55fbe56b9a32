# 65-vusb-tap: emulated ECM devices whose network side is a TAP device on
# the serving machine ("backend": {"tap": ...} in the device JSON), each TAP
# in its own network namespace, attached back through vhci_hcd over loopback.
#
#   guest (one kernel)
#   ┌───────────────────────────────────────────────────────────────────────┐
#   │ netns far:   vtap0 192.168.80.2  httpd, iperf3                          │
#   │ netns phone: phone0 192.168.42.129  udhcpd, httpd (test/vm/vusb/phone.sh)│
#   │        ▲ TAP                                                          │
#   │ node: usbvnet vusb serve tap-ecm.json web-phone.json                  │
#   │        ▼ USB/IP 127.0.0.1:3240                                        │
#   │ vhci_hcd ── cdc_ether usbX 192.168.80.1 ; cdc_ether usbY (DHCP lease)   │
#   └───────────────────────────────────────────────────────────────────────┘
#
# Checks: the TAPs exist in their namespaces with carrier off until a host
# has the function up; ping and TCP (HTTP download and upload, SHA-256
# compared, iperf3 both ways) across; frames longer than the function's
# segment size are dropped and counted and traffic goes on; carrier goes off
# on detach; the web phone gives the host a lease and its page; unplugged,
# the page is gone; a stopped server removes its TAPs (the runner checks the
# kernel log).
# vm-timeout: 600
. "$VM_LIB/lab.sh"
. "$VM_LIB/cli-runtime.sh"
. "$VM_LIB/usb.sh"
. "$USBVNET_SRC/test/vm/vusb/phone.sh"

work=$(mktemp -d)
ctl=$work/vusb.sock
slog=$USBVNET_OUT/vusb-tap-serve.log
V=$USBVNET_SRC/test/vm/vusb
serve_pid=
far_pids=

cleanup() {
	[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null
	local p
	for p in $(used_ports); do echo "$p" >"$VHCI/detach" 2>/dev/null; done
	[ -z "$serve_pid" ] || wait "$serve_pid" 2>/dev/null
	for p in $far_pids; do kill "$p" 2>/dev/null; done
	phone_stop
	ip netns del far 2>/dev/null
	lab_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

field() { jq -r "$1" "$2"; }
serve_says() { grep -qF -- "$1" "$slog"; }
# tap_carrier NS IF: the TAP is up and has carrier (LOWER_UP).
tap_carrier() { ip -n "$1" -o link show "$2" 2>/dev/null | grep -q 'LOWER_UP'; }
tap_no_carrier() { ip -n "$1" -o link show "$2" 2>/dev/null | grep -q 'NO-CARRIER'; }
tap_exists() { ip -n "$1" -o link show "$2" >/dev/null 2>&1; }
# tap_stat N KEY: counter KEY of the TAP of function 0 of device N in `vusb list`.
tap_stat() {
	vusb list --control "$ctl" --json >"$work/list.json" 2>/dev/null
	jq -r ".devices[$1].functions[0].tap.stats.$2" "$work/list.json"
}
phase() { echo "65-vusb-tap: ${SECONDS}s: $*"; }

[ -f "$USBVNET_SRC/cli/dist/driver/fd-reader-worker.js" ] || { echo "FAIL $SCENARIO: cli not built (make cli)"; exit 1; }
cli_runtime_unpack
vusb() { node "$CLI_ROOT/cli/bin/run.js" vusb "$@"; }
modprobe -a vhci-hcd cdc_ether tun
kmsg_mark "vusb-tap"

# ---- namespaces, then serve: the TAPs appear in them -------------------------
phase "serve"
ip netns add far
ip -n far link set lo up
phone_netns
node "$CLI_ROOT/cli/bin/run.js" vusb serve "$V/tap-ecm.json" "$V/web-phone.json" --control "$ctl" >"$slog" 2>&1 &
serve_pid=$!
check_wait "serve: listening" 240 serve_says "vusb: control socket $ctl"
check "TAP vtap0 created in netns far, MAC from the hostMac" \
	sh -c "ip -n far -o link show vtap0 | grep -q 'link/ether 02:76:00:00:10:81'"
check "TAP phone0 created in netns phone" tap_exists phone phone0
check_not "no TAP in the server's own namespace" ip link show vtap0
printf 'link set vtap0 up\naddr add 192.168.80.2/24 dev vtap0\n' | ip -n far -b -
check "vtap0: no carrier before a host attaches" tap_no_carrier far vtap0
mkdir -p "$work/far"
phone_start "$work/phone"
head -c 2097152 /dev/urandom >"$work/far/blob"
cp "$work/phone/www/cgi-bin" -r "$work/far/"
ip netns exec far busybox httpd -f -p 192.168.80.2:80 -h "$work/far" & far_pids+=" $!"
ip netns exec far iperf3 -s -B 192.168.80.2 >/dev/null 2>&1 & far_pids+=" $!"

# ---- a bad device file: a clear error, nothing left behind --------------------
printf '{"vendorId":"0x1209","productId":"0x0012","functions":[{"type":"cdc-ecm","hostMac":"02:76:00:00:12:01","backend":{"tap":{"name":"x0","netns":"nowhere"}}}]}' >"$work/bad.json"

# ---- attach both at once, and a server that cannot open its TAP ---------------
phase "attach"
vusb attach 1-1 --json >"$work/tap.json" 2>"$work/tap.err" & j1=$!
vusb attach 1-2 --json >"$work/web.json" 2>"$work/web.err" & j2=$!
vusb serve "$work/bad.json" --listen 127.0.0.1:3241 --control "$work/bad.sock" >"$work/bad.out" 2>&1 & j3=$!
wait "$j1" "$j2"
wait "$j3"; bad_rc=$?
check "serve with a missing netns: exit 6" test "$bad_rc" = 6
check "serve with a missing netns: says which and how to make it" grep -q 'no network namespace nowhere (ip netns add nowhere)' "$work/bad.out"
tap_usb=$(field .localBusid "$work/tap.json")
web_usb=$(field .localBusid "$work/web.json")
[ "$tap_usb" != null ] || { wait_for 20 usb_of 1209:0010; tap_usb=$(usb_of 1209:0010); }
[ "$web_usb" != null ] || { wait_for 20 usb_of 1209:0011; web_usb=$(usb_of 1209:0011); }
check_wait "cdc_ether bound to the TAP-backed ECM $tap_usb" 20 test "$(driver_of "$tap_usb:1.0")" = cdc_ether
hif=$(netdev_of "$tap_usb:1.0")
check_wait "vtap0: carrier once the host has the function up" 20 tap_carrier far vtap0

# ---- frames both ways --------------------------------------------------------
phase "ping and TCP across"
printf 'link set %s up\naddr add 192.168.80.1/24 dev %s\n' "$hif" "$hif" | ip -b -
check_wait "$hif: carrier" 10 test "$(cat "/sys/class/net/$hif/carrier" 2>/dev/null)" = 1
check "ping 192.168.80.2 in netns far across the emulated ECM" ping -c 3 -i 0.3 -W 3 192.168.80.2
check "ping from netns far to the host, 1400 bytes" ip netns exec far ping -c 2 -i 0.3 -s 1400 -W 3 192.168.80.1
check "TCP: a 2 MiB download over HTTP arrives intact" \
	test "$(curl -sS --max-time 60 http://192.168.80.2/blob | sha256sum | cut -d' ' -f1)" = "$(sha256sum <"$work/far/blob" | cut -d' ' -f1)"
check "TCP: a 1 MiB upload over HTTP arrives intact" \
	test "$(curl -sS --max-time 60 --data-binary "@$work/phone/www/blob" -H 'Content-Type: application/octet-stream' http://192.168.80.2/cgi-bin/sha256 | tr -d '\r\n')" = "$(sha256sum <"$work/phone/www/blob" | cut -d' ' -f1)"
check "TCP: iperf3 host -> far, 3 s" sh -c "iperf3 -c 192.168.80.2 -t 3 -J >'$work/iperf-up.json'"
check "TCP: iperf3 far -> host, 3 s" sh -c "iperf3 -c 192.168.80.2 -t 3 -R -J >'$work/iperf-down.json'"
for d in up down; do
	echo "    iperf3 $d: $(jq -r '.end.sum_received.bits_per_second / 1e5 | floor / 10' "$work/iperf-$d.json" 2>/dev/null) Mbit/s"
done

# ---- bad frames: longer than the function's segment size ----------------------
phase "oversized frames"
ip -n far link set vtap0 mtu 2000
check_not "a 1900-byte ping from far does not fit the ECM link" ip netns exec far ping -c 2 -i 0.3 -s 1900 -M dont -W 1 192.168.80.1
ip -n far link set vtap0 mtu 1500
check "oversized frames counted as tooLong" test "$(tap_stat 0 tooLong)" -ge 2
check "and traffic goes on" ping -c 2 -i 0.3 -W 3 192.168.80.2
check "frames counted both ways, no write errors" \
	test "$(jq -r '.devices[0].functions[0].tap | "\(.stats.toTap > 1000) \(.stats.fromTap > 1000) \(.stats.writeErrors) \(.carrier)"' "$work/list.json")" = "true true 0 true"

# ---- the web phone: DHCP from the phone, its page --------------------------------
phase "web phone"
check_wait "cdc_ether bound to the web phone $web_usb" 20 test "$(driver_of "$web_usb:1.0")" = cdc_ether
pif=$(netdev_of "$web_usb:1.0")
check_wait "phone0: carrier" 20 tap_carrier phone phone0
# What NetworkManager or networkd does on a new interface: ask DHCP.
export UDHCPC_OUT=$work
check "host: a DHCP lease from the phone on $pif" \
	udhcpc -i "$pif" -n -q -t 5 -T 2 -A 1 -s "$USBVNET_SRC/test/vm/tools/udhcpc.script"
check "host: the lease is in the phone's pool, router the phone" \
	sh -c "grep -q '^ip=192\\.168\\.42\\.' '$work/lease.host' && grep -q '^router=$PHONE_IP' '$work/lease.host'"
check "host: the phone's web page" sh -c "curl -sS --max-time 20 http://$PHONE_IP/ | grep -qF 'Hello from the vusb web phone'"

# ---- unplug from the server side: the page is gone -------------------------------
phase "unplug and detach"
vusb unplug 1-2 --control "$ctl" >"$work/unplug.out" 2>&1 & j1=$!
vusb detach 1-1 >"$work/detach.out" 2>&1 & j2=$!
wait "$j1"; check "vusb unplug 1-2 (web phone)" test $? = 0
wait "$j2"; check "vusb detach 1-1 (TAP-backed ECM)" test $? = 0
check_wait "unplug: the web phone left the host" 20 gone 1209:0011
check "unplug: its netdev $pif is gone" test ! -e "/sys/class/net/$pif"
check_not "unplug: the page is unreachable" curl -sS --max-time 3 "http://$PHONE_IP/"
check_wait "unplug: the phone's TAP is closed" 10 sh -c '! ip -n phone link show phone0 >/dev/null 2>&1'
check_wait "detach: the ECM left the host" 20 gone 1209:0010
check_wait "detach: vtap0 loses carrier, stays" 10 tap_no_carrier far vtap0

# ---- a stopped server removes its TAPs ------------------------------------------
phase "stop"
kill "$serve_pid"
wait "$serve_pid"
check "serve: exits 0 on SIGTERM" test $? = 0
serve_pid=
check_wait "server gone: vtap0 removed" 10 sh -c '! ip -n far link show vtap0 >/dev/null 2>&1'
check_not "server log: no TAP errors" grep -F ': TAP ' "$slog"
phase "done"

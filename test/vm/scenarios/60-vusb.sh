# 60-vusb: emulated USB devices (cli/src/vusb) served by `usbvnet vusb
# serve` inside the guest and attached back through vhci_hcd over loopback,
# with `usbvnet vusb attach` (sysfs, no usbip binary) and once with stock
# `usbip attach`. The guest's own drivers bind them: cdc_ether, cdc_ncm and
# cdc_acm. Ping across ECM and NCM (the server's ping peers), echo through
# /dev/ttyACM*, bytes both ways between a ttyACM and a TCP client of its
# function's TCP backend and between a ttyACM and its pseudo-terminal, unplug from the server side, detach from the client side,
# re-define a device's functions (vusb set), an emulated ECM device in a
# usbvnet0 slot, and a server stopped under attached devices. Every removal
# must leave nothing behind: vhci port free, no USB device, no netdev.
#
#   guest (one kernel, everything on 127.0.0.1)
#   ┌────────────────────────────────────────────────────────────────────┐
#   │ node: usbvnet vusb serve  ecm.json ncm.json acm.json ecm2.json       │
#   │   1-1 ECM  peer 192.168.77.2 ┐                                     │
#   │   1-2 NCM  peer 192.168.78.2 ├─ TCP 127.0.0.1:3240 ─┐              │
#   │   1-3 ACM  echo/tcp:4031/pty │                      │              │
#   │   1-4 ECM  peer 192.168.79.2 ┘                      ▼              │
#   │                                vhci_hcd ── cdc_ether  usbX 192.168.77.1
#   │                                         ── cdc_ncm    usbY 192.168.78.1
#   │                                         ── cdc_acm x3 /dev/ttyACM* │
#   │                                         ── cdc_ether  -> usbvnet0 slot
#   └────────────────────────────────────────────────────────────────────┘
# vm-timeout: 600
. "$VM_LIB/lab.sh"
. "$VM_LIB/cli-runtime.sh"
. "$VM_LIB/usb.sh"

work=$(mktemp -d)
ctl=$work/vusb.sock
slog=$USBVNET_OUT/vusb-serve.log
V=$USBVNET_SRC/test/vm/vusb
serve_pid=

cleanup() {
	[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null
	local p
	for p in $(used_ports); do echo "$p" >"$VHCI/detach" 2>/dev/null; done
	[ -z "$serve_pid" ] || wait "$serve_pid" 2>/dev/null
	lab_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

port_free() { ! used_ports | grep -qx "$1"; }
field() { jq -r "$1" "$2"; }
serve_says() { grep -qF -- "$1" "$slog"; }
carrier() { [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ]; }
# echo_through TTY TEXT: write TEXT, read it back within 5 s.
echo_through() {
	local tty=/dev/$1 text=$2 got fd
	stty -F "$tty" raw -echo 115200 || return 1
	exec {fd}<>"$tty"
	printf '%s' "$text" >&"$fd"
	read -r -t 5 -N "${#text}" -u "$fd" got
	exec {fd}<&-
	[ "$got" = "$text" ] || { echo "sent '$text', read back '$got'"; return 1; }
}

# tcp_through TTY PORT: the ACM function behind TTY has a TCP listener on
# PORT: bytes a client sends come out of TTY, bytes written to TTY reach the
# client, and a second client gets one line saying the line is taken.
tcp_through() {
	local tty=/dev/$1 port=$2 up="to-host-$RANDOM" down="from-host-$RANDOM" got t c c2
	stty -F "$tty" raw -echo 115200 || return 1
	exec {t}<>"$tty"
	exec {c}<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%s' "$up" >&"$c"
	read -r -t 10 -N "${#up}" -u "$t" got
	[ "$got" = "$up" ] || { echo "client sent '$up', $tty read '$got'"; return 1; }
	printf '%s' "$down" >&"$t"
	read -r -t 10 -N "${#down}" -u "$c" got
	[ "$got" = "$down" ] || { echo "$tty wrote '$down', client read '$got'"; return 1; }
	exec {c2}<>"/dev/tcp/127.0.0.1/$port" || return 1
	read -r -t 10 -u "$c2" got
	case $got in *"already has a client"*) ;; *) echo "second client read '$got'"; return 1 ;; esac
	exec {c2}<&- {c}<&- {t}<&-
}

# pty_through TTY LINK: the ACM function behind TTY has a pseudo-terminal
# whose slave LINK points to: bytes both ways, raw.
pty_through() {
	local tty=/dev/$1 link=$2 up="to-host-$RANDOM" down="from-host-$RANDOM" got t p
	stty -F "$tty" raw -echo 115200 || return 1
	exec {t}<>"$tty" {p}<>"$link"
	printf '%s' "$up" >&"$p"
	read -r -t 10 -N "${#up}" -u "$t" got
	[ "$got" = "$up" ] || { echo "$link got '$up', $tty read '$got'"; return 1; }
	printf '%s' "$down" >&"$t"
	read -r -t 10 -N "${#down}" -u "$p" got
	[ "$got" = "$down" ] || { echo "$tty wrote '$down', $link read '$got'"; return 1; }
	exec {p}<&- {t}<&-
}

# Where the time goes (node start-up dominates under TCG).
phase() { echo "60-vusb: ${SECONDS}s: $*"; }

[ -f "$USBVNET_SRC/cli/dist/commands/vusb/serve.js" ] || { echo "FAIL $SCENARIO: cli not built (make cli)"; exit 1; }
# Each node start costs ~5 s from tmpfs, 20-50 s over 9p: unpack the CLI.
cli_runtime_unpack
echo "60-vusb: CLI from $CLI_ROOT"
vusb() { node "$CLI_ROOT/cli/bin/run.js" vusb "$@"; }
modprobe -a vhci-hcd cdc_ether cdc_ncm cdc_acm
kmsg_mark "vusb"

# ---- serve four devices ------------------------------------------------------
phase "serve four devices"
# node itself, not a function: $! must be the server's pid for kill.
# The ACM device gets two more serial functions, backed by a TCP listener and a pty.
jq --arg link "$work/ttyVUSB0" '.functions += [{"type": "cdc-acm", "backend": {"tcp": {"listen": "127.0.0.1:4031"}}},
	{"type": "cdc-acm", "backend": {"pty": {"link": $link}}}]' "$V/acm.json" >"$work/acm.json"
node "$CLI_ROOT/cli/bin/run.js" vusb serve "$V/ecm.json" "$V/ncm.json" "$work/acm.json" "$V/ecm2.json" --control "$ctl" \
	--responder 192.168.77.2 --responder 192.168.78.2 --responder 192.168.79.2 >"$slog" 2>&1 &
serve_pid=$!
check_wait "serve: listening on 127.0.0.1:3240 with its control socket" 90 \
	serve_says "vusb: control socket $ctl"
check "serve: control socket is 0600" test "$(stat -c %a "$ctl")" = 600
check "serve: usbip list sees 4 devices" test "$(usbip list -r 127.0.0.1 2>/dev/null | grep -c '(1209:')" = 4

# ---- attach three at once: ECM and NCM with vusb attach, ACM with usbip --
phase "attach three at once: ECM and NCM with vusb attach, ACM with usbip"
# Node start-up dominates under TCG, so independent commands run together;
# three attaches racing for vhci ports also exercises the port choice.
# (Never a bare `wait`: the server is a background job too.)
vusb attach 1-1 --json >"$work/ecm.json" 2>"$work/ecm.err" & j1=$!
vusb attach 1-2 --json >"$work/ncm.json" 2>"$work/ncm.err" & j2=$!
usbip attach -r 127.0.0.1 -b 1-3 >"$work/acm.out" 2>&1 & j3=$!
wait "$j1" "$j2" "$j3"
check "attach 1-1: vusb attach succeeded" test "$(field .busid "$work/ecm.json")" = 1-1
check "attach 1-2: vusb attach succeeded" test "$(field .busid "$work/ncm.json")" = 1-2
check "attach 1-3: stock usbip attach succeeded" sh -c "usbip port | grep -qF 'usbip://127.0.0.1:3240/1-3'"
check "attach: three different vhci ports" \
	test "$(used_ports | sort -u | wc -l)" = 3
ecm_port=$(field .vhciPort "$work/ecm.json")
ncm_port=$(field .vhciPort "$work/ncm.json")
ecm=$(field .localBusid "$work/ecm.json")
ncm=$(field .localBusid "$work/ncm.json")
check "attach 1-1: high speed, 0x1209:0x0001" \
	test "$(field '"\(.speed) \(.vendorId):\(.productId)"' "$work/ecm.json")" = "high 0x1209:0x0001"
check "attach 1-1: the reported local busid is the 1209:0001 device" test "$(usb_of 1209:0001)" = "$ecm"
check "attach 1-2: the reported local busid is the 1209:0002 device" test "$(usb_of 1209:0002)" = "$ncm"
[ "$ecm" != null ] || { wait_for 20 usb_of 1209:0001; ecm=$(usb_of 1209:0001); }
[ "$ncm" != null ] || { wait_for 20 usb_of 1209:0002; ncm=$(usb_of 1209:0002); }
check "attach 1-1: on a vhci_hcd bus" test -n "$(readlink -f "/sys/bus/usb/devices/$ecm" | grep vhci_hcd)"
check "usbip port lists the vusb attachments" sh -c "usbip port | grep -qF 'usbip://127.0.0.1:3240/1-1'"

# ---- ECM: cdc_ether, ping -------------------------------------------------
phase "ECM: cdc_ether, ping"
check_wait "ECM: cdc_ether bound to $ecm:1.0" 20 test "$(driver_of "$ecm:1.0")" = cdc_ether
ecm_if=$(netdev_of "$ecm:1.0")
check "ECM: netdev with the hostMac 02:76:00:00:00:01" test "$(cat "/sys/class/net/$ecm_if/address")" = 02:76:00:00:00:01
ip addr add 192.168.77.1/24 dev "$ecm_if"
ip link set "$ecm_if" up

# ---- NCM: cdc_ncm, ping ---------------------------------------------------
phase "NCM: cdc_ncm, ping"
check_wait "NCM: cdc_ncm bound to $ncm:1.0" 20 test "$(driver_of "$ncm:1.0")" = cdc_ncm
ncm_if=$(netdev_of "$ncm:1.0")
ip addr add 192.168.78.1/24 dev "$ncm_if"
ip link set "$ncm_if" up
check_wait "ECM: carrier" 10 carrier "$ecm_if"
check "ECM: ping the emulated peer 192.168.77.2" ping -c 3 -i 0.3 -W 3 -I "$ecm_if" 192.168.77.2
check "ECM: 1400-byte pings" ping -c 3 -i 0.3 -s 1400 -W 3 -I "$ecm_if" 192.168.77.2
check_wait "NCM: carrier" 20 carrier "$ncm_if"
phase "NCM carrier seen"
carrier "$ncm_if" || {
	echo "    NCM diagnostics: carrier_changes $(cat "/sys/class/net/$ncm_if/carrier_changes")," \
		"operstate $(cat "/sys/class/net/$ncm_if/operstate"), runtime PM $(cat "/sys/bus/usb/devices/$ncm/power/runtime_status")" \
		"($(cat "/sys/bus/usb/devices/$ncm/power/control"))"
}
check "NCM: ping the emulated peer 192.168.78.2" ping -c 3 -i 0.3 -W 3 -I "$ncm_if" 192.168.78.2

# ---- ACM: cdc_acm, echo through the tty -------------------------------------
phase "ACM: cdc_acm, echo through the tty"
check_wait "ACM: 1209:0003 enumerated" 20 usb_of 1209:0003
acm=$(usb_of 1209:0003)
check "ACM: full speed" test "$(cat "/sys/bus/usb/devices/$acm/speed")" = 12
check_wait "ACM: cdc_acm bound to $acm:1.0 and $acm:1.1" 20 \
	test "$(driver_of "$acm:1.0") $(driver_of "$acm:1.1")" = "cdc_acm cdc_acm"
check_wait "ACM: a ttyACM device node" 10 test -c "/dev/$(tty_of "$acm:1.0")"
acm_tty=$(tty_of "$acm:1.0")
check "ACM: echo through /dev/$acm_tty" echo_through "$acm_tty" "hello-vusb-$RANDOM"
check "ACM: a second echo (reopened)" echo_through "$acm_tty" "0123456789abcdefghijklmnopqrstuvwxyz"
check_wait "ACM: cdc_acm bound to $acm:1.2 (the TCP-backed function)" 10 test -c "/dev/$(tty_of "$acm:1.2")"
acm_tcp_tty=$(tty_of "$acm:1.2")
check "ACM over TCP: bytes both ways between /dev/$acm_tcp_tty and a client of 127.0.0.1:4031, a second client refused" \
	tcp_through "$acm_tcp_tty" 4031
check_wait "ACM: cdc_acm bound to $acm:1.4 (the pty-backed function)" 10 test -c "/dev/$(tty_of "$acm:1.4")"
acm_pty_tty=$(tty_of "$acm:1.4")
check "ACM over a pty: $work/ttyVUSB0 -> $(readlink "$work/ttyVUSB0")" test -c "$work/ttyVUSB0"
check "ACM over a pty: bytes both ways between /dev/$acm_pty_tty and the pty" pty_through "$acm_pty_tty" "$work/ttyVUSB0"
check "server: 1-1 1-2 1-3 imported" serve_says "vusb: 1-3 imported by"
acm_port=$(usbip port | awk '/^Port [0-9]+:/ { p = $2 } index($0, "/1-3") { sub(":", "", p); print p + 0; exit }')

# ---- unplug from the server side, detach from the client side, together -----
phase "unplug from the server side, detach from the client side, together"
#   NCM: vusb unplug 1-2 (server)   ECM: vusb detach 1-1 (busid)
#   ACM (stock-attached): vusb detach <port>
vusb unplug 1-2 --control "$ctl" >"$work/unplug.out" 2>&1 & unplug_job=$!
vusb detach 1-1 >"$work/detach-ecm.out" 2>&1 & ecm_job=$!
vusb detach "$acm_port" >"$work/detach-acm.out" 2>&1 & acm_job=$!
wait "$unplug_job"; check "unplug 1-2 (NCM) from the server side" test $? = 0
wait "$ecm_job"; check "detach 1-1 (ECM) by busid with vusb detach" test $? = 0
wait "$acm_job"; check "detach the stock-attached ACM by vhci port $acm_port with vusb detach" test $? = 0
check "detach: vhci port $ecm_port free at once" port_free "$ecm_port"
check_wait "unplug: the NCM device left the client" 20 gone 1209:0002
check_wait "unplug: its vhci port $ncm_port is free" 10 port_free "$ncm_port"
check "unplug: its netdev $ncm_if is gone" test ! -e "/sys/class/net/$ncm_if"
check "unplug: no busid $ncm in sysfs" test ! -e "/sys/bus/usb/devices/$ncm"
check_wait "detach: the ECM device left" 20 gone 1209:0001
check "detach: its netdev $ecm_if is gone" test ! -e "/sys/class/net/$ecm_if"
check_wait "detach: the ACM device left" 20 gone 1209:0003
check "detach: /dev/$acm_tty, $acm_tcp_tty and $acm_pty_tty are gone" \
	test ! -e "/sys/class/tty/$acm_tty" -a ! -e "/sys/class/tty/$acm_tcp_tty" -a ! -e "/sys/class/tty/$acm_pty_tty"
check "detach: usbip port lists nothing" sh -c "! usbip port | grep -qF 'usbip://'"
check "no vhci port in use" no_ports_used
check_wait "server: 1-1 and 1-3 released" 20 sh -c "grep -qF 'vusb: 1-1 released by' '$slog' && grep -qF 'vusb: 1-3 released by' '$slog'"

# ---- list and set together ----------------------------------------------
phase "list and set together"
vusb list --control "$ctl" --json >"$work/list.json" 2>/dev/null & list_job=$!
vusb set 1-1 --functions ecm,acm --control "$ctl" >"$work/set.out" 2>&1 & set_job=$!
wait "$set_job"; check "set 1-1 --functions ecm,acm" test $? = 0
wait "$list_job"
check "list: 1-1 1-3 1-4 free, 1-2 unplugged" \
	test "$(jq -c '[.devices[] | [.busid, .attachedTo]]' "$work/list.json")" = '[["1-1",null],["1-3",null],["1-4",null]]'
check "list: the ECM peer as given" test "$(jq -r '.devices[0].functions[0].peer.ipv4' "$work/list.json")" = 192.168.77.2

# ---- with usbvnet loaded: the re-defined 1-1 and the ECM 1-4 land in slots --
phase "with usbvnet loaded: the re-defined 1-1 and the ECM 1-4 land in slots"
if usbvnet_have_module; then
	usbvnet_load
else
	check "usbvnet module built (make module)" false
fi
vusb attach 1-1 --json >"$work/set.json" 2>"$work/set.err" & j1=$!
vusb attach 1-4 --json >"$work/ecm2.json" 2>"$work/ecm2.err" & j2=$!
wait "$j1" "$j2"
cmp=$(field .localBusid "$work/set.json")
[ "$cmp" != null ] || { wait_for 20 usb_of 1209:0001; cmp=$(usb_of 1209:0001); }
check "set: 1-1 attached again" test -n "$cmp" -a "$(usb_of 1209:0001)" = "$cmp"
check_wait "set: cdc_ether on $cmp:1.0 and cdc_acm on $cmp:1.2" 20 \
	test "$(driver_of "$cmp:1.0") $(driver_of "$cmp:1.2")" = "cdc_ether cdc_acm"
check "set: 4 interfaces now" test "$(tr -d ' ' <"/sys/bus/usb/devices/$cmp/bNumInterfaces")" = 4
e2=$(field .localBusid "$work/ecm2.json")
[ "$e2" != null ] || { wait_for 20 usb_of 1209:0004; e2=$(usb_of 1209:0004); }
e2_port=$(field .vhciPort "$work/ecm2.json")
check_wait "usbvnet: cdc_ether bound to the emulated ECM $e2" 20 test "$(driver_of "$e2:1.0")" = cdc_ether
e2_if=$(netdev_of "$e2:1.0")
cmp_if=$(netdev_of "$cmp:1.0")
check_wait "usbvnet: $e2_if (1-4, ECM) in a usbvnet0 slot" 20 test -e "/sys/class/net/usbvnet0/lower_$e2_if"
check_wait "usbvnet: $cmp_if (1-1, ECM+ACM) in a usbvnet0 slot" 20 test -e "/sys/class/net/usbvnet0/lower_$cmp_if"
ip link set usbvnet0 up
check_wait "usbvnet: usbvnet0 has carrier through the emulated devices" 10 carrier usbvnet0
# Stock usbip detach on a vusb attachment: the records agree.
check "usbvnet: usbip detach -p $e2_port (attached by vusb)" usbip detach -p "$e2_port"
check_wait "usbvnet: its slot is freed" 20 test ! -e "/sys/class/net/usbvnet0/lower_$e2_if"
check_wait "usbvnet: the emulated ECM left" 20 gone 1209:0004

# ---- a stopped server frees everything -------------------------------------
phase "a stopped server frees everything"
kill "$serve_pid"
wait "$serve_pid"
check "serve: exits 0 on SIGTERM" test $? = 0
serve_pid=
check_wait "server gone: the composite left the client" 20 gone 1209:0001
check_wait "server gone: its slot is freed" 20 sh -c '! ls -d /sys/class/net/usbvnet0/lower_* >/dev/null 2>&1'
check_wait "server gone: no vhci port in use" 10 no_ports_used
check "server gone: control socket removed" test ! -e "$ctl"
check "server gone: cdc_ether, cdc_ncm, cdc_acm bound to nothing" \
	sh -c '! ls -d /sys/bus/usb/drivers/cdc_ether/*:* /sys/bus/usb/drivers/cdc_ncm/*:* /sys/bus/usb/drivers/cdc_acm/*:* 2>/dev/null | grep -q .'
phase "done"
echo "--- vhci/usbip kernel log lines"
kmsg_since_mark | grep -E 'vhci|usbip' | sed 's/^/    /' | tail -n 40
echo "--- server log (tail)"
tail -n 30 "$slog" | sed 's/^/    /'

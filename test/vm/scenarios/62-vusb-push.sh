# 62-vusb-push: devices pushed by the server (`usbvnet vusb plug DEVICE.json
# --to HOST:PORT`) to an attach agent (`usbvnet vusb attach --listen PORT`)
# instead of imported by the client, and the HID keyboard function.
# The agent refuses connections that break the exchange (an unsolicited
# device list, garbage) and carries on; a pushed ECM+ACM composite and a
# keyboard bind cdc_ether, cdc_acm and usbhid; text typed with `vusb type`
# is read back from the keyboard's /dev/input/event* node; `vusb set` on the
# pushed composite re-enumerates it with ECM only by itself (cdc_acm unbinds,
# its tty goes, cdc_ether binds the new device); unplug from the server and
# detach from the client each free both sides.
#
#   guest (one kernel, everything on 127.0.0.1)
#   ┌──────────────────────────────────────────────────────────────────┐
#   │ node: vusb serve (no devices)      node: vusb attach --listen 3250 │
#   │   vusb plug ecm-acm.json ──TCP──────▶ accept, DEVLIST, IMPORT     │
#   │   vusb plug kbd.json     ──TCP──────▶   └─ sockfd ─▶ vhci_hcd     │
#   │   2-1 ECM+ACM ◀──── URBs on the pushed connections ────┤          │
#   │   2-2 keyboard                         cdc_ether cdc_acm usbhid   │
#   │   vusb type 2-2 "..."  ───────────────▶ /dev/input/eventN ─▶ input-read
#   └──────────────────────────────────────────────────────────────────┘
# vm-timeout: 420
. "$VM_LIB/lab.sh"
. "$VM_LIB/cli-runtime.sh"
. "$VM_LIB/usb.sh"

work=$(mktemp -d)
ctl=$work/vusb.sock
slog=$USBVNET_OUT/vusb-push-serve.log
alog=$USBVNET_OUT/vusb-push-agent.log
V=$USBVNET_SRC/test/vm/vusb
AGENT=127.0.0.1:3250
reader=$USBVNET_SRC/build/vm/tools/input-read
serve_pid= agent_pid=

cleanup() {
	local p
	for p in $serve_pid $agent_pid; do kill "$p" 2>/dev/null; done
	for p in $(used_ports); do echo "$p" >"$VHCI/detach" 2>/dev/null; done
	for p in $serve_pid $agent_pid; do wait "$p" 2>/dev/null; done
	lab_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

event_of() { local e=(/sys/bus/usb/devices/"$1"/*/input/input*/event*); [ -e "${e[0]}" ] && echo "${e[0]##*/}"; }
says() { grep -qF -- "$2" "$1"; }
acm_bound() { ls -d /sys/bus/usb/drivers/cdc_acm/*:* >/dev/null 2>&1; }
phase() { echo "62-vusb-push: ${SECONDS}s: $*"; }
# to_file FILE CMD...: CMD's stdout into FILE.
to_file() { local f=$1; shift; "$@" >"$f"; }
# send_raw BYTES [ANSWER]: connect to the agent as a server would and send
# BYTES (printf format) at once, or after its first request when ANSWER=1.
send_raw() {
	local fd
	exec {fd}<>"/dev/tcp/${AGENT%:*}/${AGENT#*:}" || return 1
	# OP_REQ_DEVLIST is 8 bytes.
	[ "${2:-0}" = 1 ] && timeout 5 head -c 8 <&"$fd" >/dev/null
	printf "$1" >&"$fd"
	# The agent closes a refused connection: wait for that.
	timeout 10 cat <&"$fd" >/dev/null 2>&1
	exec {fd}<&-
}

[ -f "$USBVNET_SRC/cli/dist/vusb/attach-agent.js" ] || { echo "FAIL $SCENARIO: cli not built (make cli)"; exit 1; }
[ -x "$reader" ] || { echo "FAIL $SCENARIO: $reader not built (make vm-test builds it)"; exit 1; }
cli_runtime_unpack
vusb() { node "$CLI_ROOT/cli/bin/run.js" vusb "$@"; }
# No udev in the guest: evdev (the /dev/input/event* nodes) is loaded by hand.
modprobe -a vhci-hcd cdc_ether cdc_acm usbhid hid-generic evdev
kmsg_mark "vusb-push"

# ---- an empty server and an agent ------------------------------------------
phase "an empty server and an agent"
node "$CLI_ROOT/cli/bin/run.js" vusb serve --control "$ctl" >"$slog" 2>&1 &
serve_pid=$!
node "$CLI_ROOT/cli/bin/run.js" vusb attach --listen "${AGENT#*:}" >"$alog" 2>&1 &
agent_pid=$!
check_wait "serve: started with no devices" 90 says "$slog" "vusb: control socket $ctl"
check_wait "agent: listening on $AGENT (loopback by default)" 60 says "$alog" "vusb agent: listening on $AGENT"

# ---- what the agent refuses ----------------------------------------------
phase "what the agent refuses"
send_raw '\x01\x11\x00\x05\x00\x00\x00\x00\x00\x00\x00\x01'
check_wait "agent: refuses an unsolicited device list" 10 says "$alog" "a device list it was not asked for before being asked"
send_raw 'GET / HTTP/1.0\r\n\r\n'
check_wait "agent: refuses garbage" 10 says "$alog" "bytes that are no USB/IP reply"
send_raw '\x01\x11\x00\x05\x00\x00\x00\x00\x00\x00\x00\x07' 1
check_wait "agent: refuses a list of 7 devices" 10 says "$alog" "holds 7 devices; a push carries exactly one"
check "agent: still running" kill -0 "$agent_pid"
check "agent: attached nothing" no_ports_used

# ---- push a composite and a keyboard together --------------------------------
phase "push a composite and a keyboard together"
vusb plug "$V/ecm-acm.json" --to "$AGENT" --control "$ctl" --json >"$work/cmp.json" 2>"$work/cmp.err" & j1=$!
vusb plug "$V/kbd.json" --to "$AGENT" --control "$ctl" --json >"$work/kbd.json" 2>"$work/kbd.err" & j2=$!
wait "$j1"; check "plug 2-1 (ECM+ACM) --to $AGENT" test $? = 0
wait "$j2"; check "plug 2-2 (keyboard) --to $AGENT" test $? = 0
# (Each node start costs seconds under TCG: plug's own report stands in for vusb list.)
check "plug: both report the agent, attached" \
	test "$(jq -c '[.device.busid, .device.pushedTo, (.device.attachedTo != null)]' "$work/cmp.json" "$work/kbd.json" | tr -d '\n')" = \
	"[\"2-1\",\"$AGENT\",true][\"2-2\",\"$AGENT\",true]"
check_wait "agent: attached both" 10 sh -c "grep -c 'vusb agent: attached' '$alog' | grep -qx 2"
check_wait "client: the composite enumerated" 20 usb_of 1209:0010
check_wait "client: the keyboard enumerated" 20 usb_of 1209:0005
cmp=$(usb_of 1209:0010)
kbd=$(usb_of 1209:0005)
check_wait "composite: cdc_ether on $cmp:1.0, cdc_acm on $cmp:1.2" 20 \
	test "$(driver_of "$cmp:1.0") $(driver_of "$cmp:1.2")" = "cdc_ether cdc_acm"
check_wait "composite: a tty node" 10 test -c "/dev/$(tty_of "$cmp:1.2")"
acm_tty=$(tty_of "$cmp:1.2")
cmp_if=$(netdev_of "$cmp:1.0")
check "keyboard: bDeviceClass 00, interface 03/01/01" \
	test "$(cat "/sys/bus/usb/devices/$kbd/bDeviceClass") $(cat "/sys/bus/usb/devices/$kbd:1.0/bInterfaceClass")/$(cat "/sys/bus/usb/devices/$kbd:1.0/bInterfaceSubClass")/$(cat "/sys/bus/usb/devices/$kbd:1.0/bInterfaceProtocol")" = "00 03/01/01"
check_wait "keyboard: usbhid bound to $kbd:1.0" 20 test "$(driver_of "$kbd:1.0")" = usbhid
check_wait "keyboard: an input event node" 10 test -c "/dev/input/$(event_of "$kbd:1.0")"
ev=$(event_of "$kbd:1.0")

# ---- type on the keyboard, read it from evdev --------------------------------
phase "type on the keyboard, read it from evdev"
text='Hello, World! ~_+{}|:"<>? 0123456789 `-=[]\;'"'"',./'
"$reader" "/dev/input/$ev" "${#text}" 60 >"$work/typed" & reader_pid=$!
sleep 0.5
check "type: vusb type 2-2 (${#text} characters)" vusb type 2-2 "$text" --control "$ctl"
wait "$reader_pid"; check "type: the reader got ${#text} characters in time" test $? = 0
check "type: /dev/input/$ev reads exactly what was typed" test "$(cat "$work/typed")" = "$text"
# (Refusals of type, plug and attach --listen input: unit tests, no VM needed.)

# ---- set on a pushed device: ACM goes, ECM stays ----------------------------
phase "set on a pushed device: ACM goes, ECM stays"
check "set 2-1 --functions ecm" to_file "$work/set.json" vusb set 2-1 --functions ecm --control "$ctl" --json
check "set: the server pushed it again itself" test "$(jq -r .device.repushed "$work/set.json")" = true
check_wait "set: cdc_acm unbound" 20 sh -c '! ls -d /sys/bus/usb/drivers/cdc_acm/*:* >/dev/null 2>&1'
check_wait "set: /dev/$acm_tty is gone" 10 test ! -e "/sys/class/tty/$acm_tty"
check_wait "set: the device is back" 20 usb_of 1209:0010
cmp2=$(usb_of 1209:0010)
check_wait "set: cdc_ether bound to $cmp2:1.0" 20 test "$(driver_of "$cmp2:1.0")" = cdc_ether
check "set: 2 interfaces now" test "$(tr -d ' ' <"/sys/bus/usb/devices/$cmp2/bNumInterfaces")" = 2
check "set: the netdev keeps its MAC 02:76:00:00:00:10" test "$(cat "/sys/class/net/$(netdev_of "$cmp2:1.0")/address")" = 02:76:00:00:00:10
check "set: the keyboard was not disturbed" test "$(usb_of 1209:0005)" = "$kbd"
check "set: one vhci port each" test "$(used_ports | wc -l)" = 2

# ---- unplug from the server, detach from the client --------------------------
phase "unplug from the server, detach from the client"
vusb unplug 2-2 --control "$ctl" >"$work/unplug.out" 2>&1 & j1=$!
vusb detach 2-1 >"$work/detach.out" 2>&1 & j2=$!
wait "$j1"; check "unplug 2-2 (keyboard) from the server" test $? = 0
wait "$j2"; check "detach 2-1 (the re-pushed ECM) from the client" test $? = 0
check_wait "unplug: the keyboard left the client" 20 gone 1209:0005
check "unplug: /dev/input/$ev is gone" test ! -e "/dev/input/$ev"
check_wait "detach: the ECM left" 20 gone 1209:0010
check "detach: its netdev $cmp_if is gone" test ! -e "/sys/class/net/$cmp_if"
check_wait "no vhci port in use" 10 no_ports_used
check_wait "server: the detached device is unplugged there too" 10 says "$slog" "vusb: 2-1 left $AGENT"
check "server: unplugged the keyboard" says "$slog" "vusb: unplugged 2-2"
check_wait "agent: saw both leave" 10 sh -c "grep -c 'left vhci port' '$alog' | grep -qx 3"
check "agent: no usbip records left" sh -c "! ls /var/run/vhci_hcd/port* >/dev/null 2>&1"
check "server: still running" kill -0 "$serve_pid"
check "agent: still running" kill -0 "$agent_pid"
check_dmesg_clean
phase "done"
echo "--- agent log"
sed 's/^/    /' "$alog" | tail -n 20
echo "--- server log (tail)"
tail -n 20 "$slog" | sed 's/^/    /'

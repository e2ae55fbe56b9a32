# vm-timeout: 600
# 55-cli-dhcp: the usbvnet command's DHCP side against the real module and
# real udhcpc clients: leases (human and --json) match what the clients
# hold; leases save -> module reload -> leases restore brings every lease
# back and a device its address; dhcp shows the counters; config apply of
# DHCP settings takes effect (a reservation), and one the driver refuses
# leaves GET_CONFIG and GET_DHCP byte for byte as they were.
#
#   host netns                                 dev-* netns
#   ┌────────────────────────────────┐         ┌──────────────────────┐
#   │ usbvnet0  <- usbvnet leases ...│         │                      │
#   │   slot 0  e1 (cdc_ether) ══════╪═ USB ═══╪═ e1: udhcpc (ECM, E1)│
#   │   slot 1  n1 (cdc_ncm)   ══════╪═ USB ═══╪═ n1: udhcpc (NCM, N1)│
#   └────────────────────────────────┘         └──────────────────────┘
# Lean on purpose: every node start costs 5-25 s under TCG, so one --json
# run answers several checks through jq.
. "$VM_LIB/lab.sh"
. "$VM_LIB/dhcp.sh"
. "$VM_LIB/cli-runtime.sh"
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT
lab_init 2

[ -f "$USBVNET_SRC/cli/dist/commands/leases/index.js" ] || { echo "FAIL $SCENARIO: cli not built (make cli)"; exit 1; }
cli_runtime_unpack
ctl=$USBVNET_SRC/build/vm/tools/ioctl-test
phase() { echo "55-cli-dhcp: ${SECONDS}s: $*"; }

cli() { node "$CLI_ROOT/cli/bin/run.js" "$@"; }
# One run, several questions: save ARGS... (with --json), then q 'jq filter'.
save() { cli "$@" --json >"$work/last.json" 2>"$work/last.err"; echo $? >"$work/last.rc"; }
q() { jq -c -r "$1" "$work/last.json"; }
rc() { cat "$work/last.rc"; }

kmsg_mark "55-cli-dhcp"
usbvnet_load
ip link set usbvnet0 up
dhcp_plug e1 ecm E1
dhcp_plug n1 ncm N1
e1_if=$(gadget_dev_if e1) n1_if=$(gadget_dev_if n1)
e1_mac=$(ip netns exec dev-e1 cat "/sys/class/net/$e1_if/address")
n1_mac=$(ip netns exec dev-n1 cat "/sys/class/net/$n1_if/address")
check "e1 gets a lease" dhcp_exchange dev-e1 "$e1_if"
check "n1 gets a lease" dhcp_exchange dev-n1 "$n1_if"
e1_ip=$(dhcp_lease_ip dev-e1) n1_ip=$(dhcp_lease_ip dev-n1)
echo "55-cli-dhcp: e1 $e1_mac $e1_ip, n1 $n1_mac $n1_ip"
phase "devices leased"

# 1. leases: what the clients hold, as JSON and as a table.
save leases
row() { jq -c -r --arg ip "$1" '.leases[] | select(.ip == $ip) | [.mac, .slot, .serial, .state, (.secondsLeft > 3000), .clientId]' "$work/last.json"; }
# udhcpc sends its MAC as client id (option 61: type 1, the MAC).
check "leases --json: e1's address, MAC, slot 0, serial E1, bound, ~1h left, client id" \
	test "$(row "$e1_ip")" = "[\"$e1_mac\",0,\"E1\",\"bound\",true,\"01:$e1_mac\"]"
check "leases --json: n1's address, MAC, slot 1, serial N1, bound, client id" \
	test "$(row "$n1_ip")" = "[\"$n1_mac\",1,\"N1\",\"bound\",true,\"01:$n1_mac\"]"
check "leases --json: nothing else" test "$(q '.leases | length')" = 2
cli leases >"$work/leases.txt" 2>&1
check "leases: a table with its header" grep -qE '^IP +MAC +CLIENT ID +SLOT +SERIAL +STATE +EXPIRES IN$' "$work/leases.txt"
check "leases: e1's row, expiring in minutes" grep -qE "^$e1_ip +$e1_mac +01:$e1_mac +0 +E1 +bound +[0-9]+m [0-9]+s$" "$work/leases.txt" ||
	cat "$work/leases.txt"
save dhcp
check "dhcp --json: on, 2 leases bound, 2 ACKs at least" test "$(q '[.enabled, .leasesBound, (.counters.ack >= 2)]')" = '[true,2,true]'
check "dhcp --json: counters as the driver counts them" test "$(q .counters.discover)" = "$(dhcp_counter discover)"
phase "leases listed"

# 2. save -> reload -> restore: the same leases, and a device its address.
save leases save "$work/state/leases.bin"
check "leases save --json: 2 leases written" test "$(q '[.leases, .file]')" = "[2,\"$work/state/leases.bin\"]"
check "the file is a lease table, alone in its new directory" \
	bash -c "[ \"\$(head -c 4 '$work/state/leases.bin')\" = UVNL ] && [ \"\$(ls -A '$work/state')\" = leases.bin ]"
usbvnet_unload
usbvnet_load
ip link set usbvnet0 up
check "a fresh module has no leases" test "$(dhcp_counter leases_bound)" = 0
# An empty table whose checksum is wrong.
printf 'UVNL\001\000P\000\000\000\000\000\000\000\000\000' >"$work/corrupt.bin"
save leases restore "$work/corrupt.bin"
check "restore of a corrupt file exits with 3, saying why" \
	test "$(rc) $(q .error.code) $(q .error.message)" = "3 LEASES_CORRUPT $work/corrupt.bin: not a valid lease table: checksum mismatch: the records are corrupt"
check "and nothing was imported" test "$(dhcp_counter leases_bound)" = 0
save leases restore "$work/state/leases.bin"
check "leases restore --json: 2 leases restored" test "$(rc) $(q '[.restored, .leases]')" = '0 [true,2]'
check "both leases are back" test "$(dhcp_counter leases_bound)" = 2
save leases
check "the same addresses, MACs and serials as before the reload" \
	test "$(q '[.leases[] | [.ip, .mac, .serial]] | sort')" = \
	"$(jq -c -n --arg a "$e1_ip" --arg b "$e1_mac" --arg c "$n1_ip" --arg d "$n1_mac" '[[$a,$b,"E1"],[$c,$d,"N1"]] | sort')"
check_wait "e1 is attached again" 10 test -e "/sys/class/net/usbvnet0/lower_$(gadget_host_if e1)"
check "e1 gets its address back" dhcp_leases dev-e1 "$e1_if" "$e1_ip"
phase "save, reload, restore"

# 3. config apply of DHCP settings: a reservation by serial takes effect.
cat >"$work/reserve.json" <<-'EOF'
	{"dhcp": {"reservations": [{"ip": "100.127.254.200", "serial": "N1"}], "leaseSeconds": 1800}}
EOF
save config apply "$work/reserve.json"
check "config apply --json: 2 DHCP changes applied" \
	test "$(q '[.applied, [.changes[].path]]')" = '[true,["$.dhcp.leaseSeconds","$.dhcp.reservations[0]"]]'
check "n1 gets its reserved address" dhcp_leases dev-n1 "$n1_if" 100.127.254.200
check "with the new lease time" grep -qx 'lease=1800' "$UDHCPC_OUT/lease.dev-n1"
phase "config applied"

# 4. Refused: the pre-check catches what it can (exit 3); what reaches the
# driver and is refused there (exit 8) leaves both requests' state intact.
cat >"$work/refused.json" <<-'EOF'
	{"mode": "private", "mac": "02:55:00:00:00:01", "dhcp": {"pool": {"start": "100.127.253.2", "end": "100.127.253.9"}}}
EOF
"$ctl" state >"$work/before.state"
cli config apply "$work/refused.json" >/dev/null 2>"$work/precheck.err"
precheck_rc=$?
check "a pool outside the subnet is refused before any request (exit 3), with its path" \
	bash -c "[ $precheck_rc = 3 ] && grep -qF '\$.dhcp.pool.start: \"100.127.253.2\" is not a host address of 100.127.254.0/24' '$work/precheck.err'"
save config apply "$work/refused.json" --skip-precheck
check "the driver refuses it: exit 8, REFUSED" test "$(rc) $(q .error.code)" = "8 REFUSED"
check "the error says nothing was changed" bash -c "jq -r .error.message '$work/last.json' | grep -q 'refused the DHCP settings.*nothing was changed'"
"$ctl" state >"$work/after.state"
check "GET_CONFIG and GET_DHCP byte for byte as before" cmp "$work/before.state" "$work/after.state"
check "usbvnet0 kept its MAC" test "$(cat /sys/class/net/usbvnet0/address)" != 02:55:00:00:00:01
phase "refusal"

gadget_remove_all
usbvnet_unload
check_dmesg_clean

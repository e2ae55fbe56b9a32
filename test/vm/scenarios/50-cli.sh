# 50-cli: the usbvnet command (cli/, built by "make cli") against the real
# module: status, slots, attach, detach and config validate|show|diff|apply,
# their --json output and exit codes; what they report matches sysfs, and
# what they set takes effect on real USB devices; a managed profile locks a
# setting.
#
#   host netns                                   dev-* netns
#   ┌──────────────────────────────────┐         ┌──────────────────────┐
#   │ usbvnet0   <- usbvnet ...        │         │                      │
#   │   slot 0|5  e1 (cdc_ether) ══════╪═ USB ═══╪═ e1: ECM 1d6b:0104   │
#   │   slot 0    n1 (cdc_ncm)   ══════╪═ USB ═══╪═ n1: NCM 0525:a4a2   │
#   └──────────────────────────────────┘         └──────────────────────┘
# vm-timeout: 1800
. "$VM_LIB/lab.sh"
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT
lab_init 3

[ -f "$USBVNET_SRC/cli/dist/commands/status.js" ] || { echo "FAIL $SCENARIO: cli not built (make cli)"; exit 1; }

# Node reading some 300 modules over 9p takes 20-50 s per run under TCG;
# from tmpfs 5-25 s (more when the host is busy). One copy of what the
# command needs at run time, and few runs: one --json run answers several
# checks through jq.
cli_copy=$work/usbvnet
mkdir -p "$cli_copy/node_modules"
cp -a "$USBVNET_SRC"/{package.json,cli,schemas} "$cli_copy/"
(cd "$USBVNET_SRC/node_modules" &&
	tar cf - --exclude=./typescript --exclude=./@types --exclude=./koffi/vendor --exclude=./koffi/doc .) |
	tar xf - -C "$cli_copy/node_modules"
chmod -R a+rX "$work"
usbvnet_cli() { node "$cli_copy/cli/bin/run.js" "$@"; }

# Exit status of a run, output discarded:   test "$(status_of ARGS...)" = N
status_of() { usbvnet_cli "$@" >/dev/null 2>&1; echo $?; }
# A run exits with CODE and its stderr contains TEXT:  fails_with CODE TEXT ARGS...
fails_with() {
	local code=$1 text=$2 err rc
	shift 2
	err=$(usbvnet_cli "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	echo "$err"
	[ "$rc" = "$code" ] && grep -qF -- "$text" <<<"$err"
}
# stdout of a run has the line LINE:         prints LINE ARGS...
prints() { local line=$1; shift; usbvnet_cli "$@" 2>/dev/null | grep -qxF -- "$line"; }
# One run, several questions: save ARGS... --json, then q 'jq filter' (compact output).
save() { usbvnet_cli "$@" --json >"$work/last.json" 2>"$work/last.err"; }
q() { jq -c -r "$1" "$work/last.json"; }
# As an unprivileged user (the device node is 0666: reads work, changes need CAP_NET_ADMIN).
as_nobody() { HOME=/tmp setpriv --reuid=65534 --regid=65534 --clear-groups -- node "$cli_copy/cli/bin/run.js" "$@"; }
nobody_status() { as_nobody "$@" >/dev/null 2>&1; echo $?; }
nobody_fails_with() {
	local code=$1 text=$2 err rc
	shift 2
	err=$(as_nobody "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	echo "$err"
	[ "$rc" = "$code" ] && grep -qF -- "$text" <<<"$err"
}
sysfs() { cat "/sys/class/net/$1"; }

# 1. No module: exit 4 with a clear message, as text and as JSON.
check "status without the module exits with 4, saying so" fails_with 4 "module not loaded (no /dev/usbvnet)" status
save status
check "status --json without the module: error MODULE_NOT_LOADED, exit 4" test "$(q '[.error.code, .error.exitCode]')" = '["MODULE_NOT_LOADED",4]'

# 2. The fresh instance, as sysfs sees it.
usbvnet_load
pp ip link set usbvnet0 up
save status
check "status: instance, ifindex, MAC as in sysfs" \
	test "$(q '"\(.instance) \(.ifindex) \(.mac)"')" = "usbvnet0 $(sysfs usbvnet0/ifindex) $(sysfs usbvnet0/address)"
check "status: API 1, 32 slots, none used, no carrier" \
	test "$(q '[.apiVersion, .slots.max, .slots.used, .carrier]')" = '[1,32,0,false]'
check "status: a DHCP summary (known, on or off, no lease bound yet, a refused count)" \
	test "$(q '[.dhcp.known, (.dhcp.enabled | type), .dhcp.leasesBound, (.dhcp.refused | type)]')" = '[true,"boolean",0,"number"]'
check "slots: none attached" prints "no device attached to usbvnet0" slots
save config show
check "config show: defaults (bridge, autoAttach, every driver, no rules)" \
	test "$(q '[.mode, .autoAttach, .drivers, .rules]')" = '["bridge",true,["cdc_ether","cdc_ncm","cdc_eem","rndis_host"],[]]'
check "config show: MAC as in sysfs" test "$(q .mac)" = "$(sysfs usbvnet0/address)"
check "status of an instance that does not exist exits with 6" test "$(status_of status --instance nosuch0)" = 6

# 3. A device attached automatically shows up in slots with its identity.
gadget_create e1 ecm serial=E1
gadget_plug e1
e1=$(gadget_wait_host e1)
check_wait "e1 auto-attached" 10 test -e "/sys/class/net/usbvnet0/lower_$e1"
save slots
check "slots: e1 in slot 0" test "$(q '.slots[0] | "\(.slot) \(.netdev)"')" = "0 $e1"
check "slots: driver, VID:PID, serial" test "$(q '.slots[0] | "\(.driver) \(.vendor):\(.product) \(.serial)"')" = "cdc_ether 0x1d6b:0x0104 E1"
check "slots: busid and MAC as in sysfs" \
	test "$(q '.slots[0] | "\(.busid) \(.mac)"')" = "$(basename "$(gadget_usb_dev e1)") $(sysfs "$e1/address")"
save status
check "status: 1/32 used, slot 0, carrier" test "$(q '[.slots.used, .slots.attached, .carrier]')" = '[1,[0],true]'

# 4. detach and attach by hand, by slot and by name; errors and their codes.
check "detach 0" usbvnet_cli detach 0
check "detach: e1 left usbvnet0 but still exists" bash -c "test ! -e /sys/class/net/usbvnet0/lower_$e1 && test -e /sys/class/net/$e1"
check "detach of a free slot exits with 8" test "$(status_of detach 0)" = 8
save attach "$e1" --slot 5
check "attach --slot 5 --json: slot 5" test "$(q .slot)" = 5
check "attach: e1 behind usbvnet0" test -e "/sys/class/net/usbvnet0/lower_$e1"
check "attach of an attached netdev exits with 7 (busy)" test "$(status_of attach "$e1")" = 7
check "attach of a missing netdev exits with 6" test "$(status_of attach nosuchdev0)" = 6
check "attach of loopback is refused with 8" test "$(status_of attach lo)" = 8
check "detach by netdev name" usbvnet_cli detach "$e1"
check "detach by name of a netdev not attached exits with 8" test "$(status_of detach "$e1")" = 8
save attach "$e1"
check "attach --json: back in slot 5, the slot its serial held" test "$(q .slot)" = 5

# 5. Changes need CAP_NET_ADMIN; reads do not.
check "status as nobody works" as_nobody status
check "detach as nobody exits with 5, saying it needs root" nobody_fails_with 5 "needs root (CAP_NET_ADMIN)" detach 5
echo '{"mode": "private"}' >"$work/private.json"
check "config apply as nobody exits with 5" test "$(nobody_status config apply "$work/private.json")" = 5
save config show
check "mode still bridge" test "$(q .mode)" = bridge
check "e1 still attached" test -e "/sys/class/net/usbvnet0/lower_$e1"

# 6. config validate, diff, apply --dry-run, apply: one request, effective.
cat >"$work/good.json" <<-'EOF'
	{
	  "mac": "02:12:34:56:78:9a",
	  "mode": "private",
	  "autoAttach": true,
	  "drivers": ["cdc_ether", "cdc_ncm"],
	  "rules": [{"vendor": "0x1d6b", "product": "0x0104", "action": "deny"}]
	}
EOF
echo '{"mode": "privat"}' >"$work/typo.json"
check "config validate: good file" usbvnet_cli config validate "$work/good.json"
check "config validate: a typo exits with 3, suggesting the value" \
	fails_with 3 'did you mean "private"?' config validate "$work/typo.json"
check "config apply of an invalid file exits with 3" test "$(status_of config apply "$work/typo.json")" = 3
save config diff "$work/good.json"
# autoAttach is true already: 4 changes.
check "config diff: mac, mode, drivers, a rule added" \
	test "$(q '[.changed, [.changes[] | "\(.kind) \(.path)"]]')" = '[true,["changed $.mac","changed $.mode","changed $.drivers","added $.rules[0]"]]'
save config apply --dry-run "$work/good.json"
check "config apply --dry-run: not applied" test "$(q '[.dryRun, .applied]')" = '[true,false]'
check "dry run changed nothing" test "$(sysfs usbvnet0/address)" != 02:12:34:56:78:9a
save config apply "$work/good.json"
check "config apply --json: 4 changes applied" test "$(q '[.applied, (.changes | length)]')" = '[true,4]'
check "the MAC took effect" test "$(sysfs usbvnet0/address)" = 02:12:34:56:78:9a
save config show
check "config show equals the file applied (besides the DHCP settings and locks)" test "$(jq -cS 'del(.managed, .dhcp)' "$work/last.json")" = "$(jq -cS . "$work/good.json")"
save config apply "$work/good.json"
check "config apply again: nothing to apply" test "$(q '[.applied, (.changes | length)]')" = '[false,0]'
save status
check "status: private mode, MAC" test "$(q '"\(.mode) \(.mac)"')" = "private 02:12:34:56:78:9a"
echo '{"mode": "bridge"}' >"$work/mode.json"
check "apply a file with only mode" usbvnet_cli config apply "$work/mode.json"
save config show
check "mode changed, the rest kept" test "$(q '[.mode, .mac, (.rules | length), .drivers]')" = '["bridge","02:12:34:56:78:9a",1,["cdc_ether","cdc_ncm"]]'

# 6b. A managed profile (MDM) locks the mode: a local file changing it is
# refused and changes nothing; one leaving it alone applies, with the
# profile's mode; config show marks the locked key.
managed=$work/managed.d
mkdir -p "$managed"
echo '{"mode": "private"}' >"$managed/10-fleet.json"
echo '{"mode": "bridge", "mac": "02:12:34:56:78:9b"}' >"$work/local-bad.json"
check "config apply changing a locked key exits with 3, naming key and profile" \
	fails_with 3 "\$.mode: locked to \"private\" by $managed/10-fleet.json; the file sets \"bridge\"" \
	config apply "$work/local-bad.json" --managed-dir "$managed"
check "the refused apply changed nothing" test "$(sysfs usbvnet0/address)" = 02:12:34:56:78:9a
echo '{"mac": "02:12:34:56:78:9b"}' >"$work/local-ok.json"
check "config apply of a file leaving the locked key alone" usbvnet_cli config apply "$work/local-ok.json" --managed-dir "$managed"
save config show --managed-dir "$managed"
check "config show: the profile's mode and the file's MAC in effect" test "$(q '"\(.mode) \(.mac)"')" = "private 02:12:34:56:78:9b"
check "config show --json: \$.mode locked by the profile, in effect" \
	test "$(q '.managed')" = "[{\"path\":\"\$.mode\",\"profile\":\"$managed/10-fleet.json\",\"value\":\"private\",\"inEffect\":true}]"

# 7. The rules and drivers applied decide what attaches automatically.
usbvnet_cli detach "$e1" >/dev/null 2>&1
gadget_unplug e1
gadget_wait_gone e1
save status
refused=$(q .refused.rules)
gadget_plug e1
e1=$(gadget_wait_host e1)
sleep 2
check "denied 1d6b:0104 is not attached" test ! -e "/sys/class/net/usbvnet0/lower_$e1"
save status
check "status counts the refusal" test "$(q .refused.rules)" -gt "$refused"
gadget_create n1 ncm serial=N1 vid=0x0525 pid=0xa4a2
gadget_plug n1
n1=$(gadget_wait_host n1)
check_wait "allowed 0525:a4a2 (cdc_ncm) is attached" 10 test -e "/sys/class/net/usbvnet0/lower_$n1"
save slots
check "slots: only n1, with its IDs" test "$(q '[.slots[] | "\(.netdev) \(.driver) \(.vendor):\(.product)"]')" = "[\"$n1 cdc_ncm 0x0525:0xa4a2\"]"

# 8. Unloaded again: the command says so.
usbvnet_cli detach "$n1" >/dev/null 2>&1
gadget_remove_all
usbvnet_unload
check "status after rmmod exits with 4" test "$(status_of status)" = 4

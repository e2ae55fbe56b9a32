# 57-install: "usbvnet install" as a package's postinstall script runs it, on
# the guest's own root (made writable with overlays), then doctor on a healthy
# and a broken install, a reboot-equivalent driven by the installed unit, and
# uninstall leaving no file behind. The module is the prebuilt one
# (--no-dkms): a DKMS build under TCG takes many minutes, so
# test/install/dkms-host.sh tests the DKMS steps on the host.
#
#   /etc, /var, /usr  overlay: host root (9p, ro) below, tmpfs above
#   /lib/modules/KVER overlay: a copy of its USB drivers below (depmod stays quick)
#   package           $CLI_ROOT (tmpfs) + linux-module/usbvnet.ko (+ iproute2 plugin)
#   "reboot"          ExecStop lines, rmmod, modprobe, ExecStartPre/ExecStart lines
#                     of /etc/systemd/system/usbvnet.service
# vm-timeout: 420
. "$VM_LIB/lab.sh"
. "$VM_LIB/cli-runtime.sh"
ov=/run/usbvnet-ov
cleanup() {
	lab_cleanup
	local d
	for d in "usr/lib/modules/$KVER" usr var etc; do umount "/$d" 2>/dev/null; done
}
trap cleanup EXIT
lab_init 1
ctl=$USBVNET_SRC/build/vm/tools/ioctl-test
hook=$USBVNET_SRC/test/vm/tools/udhcpc.script
unit=/etc/systemd/system/usbvnet.service
t0=$SECONDS
phase() { echo "--- $* (at $((SECONDS - t0)) s)"; }

# The package: the CLI as the lab unpacks it, plus the prebuilt module (and
# the iproute2 plugin when built), laid out as an npm package would have them.
cli_runtime_unpack
[ "$CLI_ROOT" != "$USBVNET_SRC" ] || { echo "FAIL $SCENARIO: no CLI runtime tar (make cli)"; exit 1; }
mkdir -p "$CLI_ROOT/linux-module" "$CLI_ROOT/build/iproute2"
cp "$USBVNET_KO" "$CLI_ROOT/linux-module/usbvnet.ko"
plugin=$USBVNET_SRC/build/iproute2/link_usbvnet.so
[ ! -f "$plugin" ] || cp "$plugin" "$CLI_ROOT/build/iproute2/"
usbvnet() { node "$CLI_ROOT/cli/bin/run.js" "$@"; }
q() { jq -c -r "$1" "$out"; }
out=/tmp/last.json

# Writable /etc, /var, /usr and the kernel's module tree: overlays with a
# tmpfs above. The module tree below is cut down to the USB and USB network
# drivers (the lab has loaded what it needs already): depmod reads every
# module, and Debian's ~4000 over 9p under TCG take minutes.
modprobe overlay
mkdir -p "$ov" && mount -t tmpfs tmpfs "$ov"
mods=$ov/base/lib/modules/$KVER
mkdir -p "$mods"
(cd "/lib/modules/$KVER" && cp -a --parents modules.order modules.builtin modules.builtin.modinfo \
	kernel/drivers/usb kernel/drivers/net/usb kernel/drivers/net/mii.ko* "$mods/")
depmod -b "$ov/base" -a "$KVER"
overlay() { # NAME DIR LOWER: DIR becomes LOWER with a tmpfs above; LOWER stays reachable
	mkdir -p "$ov/$1/upper" "$ov/$1/work" "$ov/$1/lower"
	mount --bind "$3" "$ov/$1/lower"
	mount -t overlay overlay -o "lowerdir=$ov/$1/lower,upperdir=$ov/$1/upper,workdir=$ov/$1/work" "$2"
}
overlay etc /etc /etc
overlay var /var /var
overlay usr /usr /usr
overlay modules "/usr/lib/modules/$KVER" "$mods"
# What the overlays hold that was not there: files added or changed, and
# deletions (whiteouts). Empty means the system is as it was.
changes() {
	local d f
	for d in etc var usr modules; do
		(cd "$ov/$d/upper" && find . ! -type d) | while read -r f; do
			f=${f#./}
			if [ -c "$ov/$d/upper/$f" ]; then echo "deleted $d: $f"
			elif ! cmp -s "$ov/$d/upper/$f" "$ov/$d/lower/$f"; then echo "written $d: $f"
			fi
		done
	done
}
changes >/tmp/changes.before

phase "install twice"
usbvnet install --no-dkms --json >"$out" && rc=0 || rc=$?
check "install --no-dkms exits 0" test "$rc" = 0
check "install: module, modules-load, config, unit, udev, networkd, enable done" \
	test "$(q '[.steps[] | select(.status == "done") | .step] | join(" ")')" = "module modules-load config state unit udev networkd$([ -f "$plugin" ] && echo ' iproute2') enable"
check "install: start skipped (no systemd in the lab)" test "$(q '.steps[] | select(.step == "start") | .status')" = skipped
check "the module is where modprobe finds it" test "$(modinfo -F filename usbvnet)" = "/lib/modules/$KVER/updates/usbvnet.ko"
check "the unit is enabled" test "$(readlink /etc/systemd/system/multi-user.target.wants/usbvnet.service)" = "$unit"
usbvnet install --no-dkms >/tmp/install2.txt 2>&1 && rc=0 || rc=$?
cat /tmp/install2.txt
check "a second install exits 0" test "$rc" = 0
check "a second install does nothing: every step already or skipped" bash -c "! grep -Eq '^(done|failed) ' /tmp/install2.txt && grep -q '^install complete: 0 done, ' /tmp/install2.txt"

phase "doctor, healthy"
check "modprobe loads the installed module" modprobe usbvnet
wait_for 10 ip link show usbvnet0
usbvnet doctor --json >"$out" && rc=0 || rc=$?
jq -r '.checks[] | "\(.status) \(.check): \(.detail)"' "$out"
check "doctor: healthy, exit 0" test "$rc $(q .healthy)" = "0 true"
check "doctor: module, loaded, device, version, modules-load, unit, enabled, config, udev, networkd, leases ok" \
	test "$(q '[.checks[] | select(.status == "ok") | .check] | join(" ")')" = "module loaded device version modules-load unit enabled config udev networkd leases$([ -f "$plugin" ] && echo ' iproute2')"

phase "doctor, broken"
rm /etc/modules-load.d/usbvnet.conf
echo '{"mode": "privte"}' >/etc/usbvnet/config.json
usbvnet doctor >/tmp/doctor.txt 2>&1 && rc=0 || rc=$?
cat /tmp/doctor.txt
check "doctor on a broken install exits 11" test "$rc" = 11
check "doctor names the missing modules-load file and its fix" \
	bash -c "grep -q '^fail *modules-load */etc/modules-load.d/usbvnet.conf missing' /tmp/doctor.txt && grep -A1 '^fail *modules-load' /tmp/doctor.txt | grep -q 'fix: usbvnet install'"
check "doctor names the config's problem" grep -q '\$.mode: expected one of "bridge", "private", got the string "privte"; did you mean "private"?' /tmp/doctor.txt
check "doctor's last line lists the problems" test "$(tail -n 1 /tmp/doctor.txt)" = "2 problem(s): modules-load, config"
echo '{"mode": "private"}' >/etc/usbvnet/config.json
# A managed profile the local file contradicts: apply would refuse it.
mkdir -p /etc/usbvnet/managed.d
echo '{"mode": "bridge"}' >/etc/usbvnet/managed.d/10-fleet.json
usbvnet doctor >/tmp/doctor.txt 2>&1 && doctor_rc=0 || doctor_rc=$?
managed_named() {
	[ "$doctor_rc" = 11 ] && grep '^fail *managed ' /tmp/doctor.txt | grep -qF \
		'/etc/usbvnet/config.json contradicts the managed profiles: $.mode locked to "bridge" by /etc/usbvnet/managed.d/10-fleet.json, the file sets "private"'
}
check "doctor names a local setting a managed profile locks otherwise, exit 11" managed_named || cat /tmp/doctor.txt
rm -r /etc/usbvnet/managed.d

# A lease to keep across the "reboot", when the leases commands exist.
leases=0
if usbvnet leases save --help >/dev/null 2>&1; then
	leases=1
	phase "a lease"
	ip link set usbvnet0 up
	gadget_add e1 ecm serial=E1 >/dev/null
	e1_if=$(gadget_dev_if e1)
	check "device gets a lease" ip netns exec dev-e1 udhcpc -i "$e1_if" -n -q -t 4 -T 1 -A 1 -s "$hook"
	e1_mac=$(ip netns exec dev-e1 cat "/sys/class/net/$e1_if/address")
	"$ctl" leases-export /tmp/leases.before
else
	echo "note: no \"usbvnet leases save|restore\" yet: the lease part is left out"
fi

phase "reboot-equivalent through the unit's lines"
# Exec lines as bash words (the unit quotes as systemd does; our paths need no more); "-" ignores failure.
unit_lines() { sed -n "s/^$1=//p" "$unit"; }
run_unit_lines() {
	local key=$1 line ignore rc=0 ran=0
	# A here-string, not <(...): the lab's /dev has no /dev/fd.
	while read -r line; do
		[ -n "$line" ] || continue
		ran=$((ran + 1))
		ignore=0
		[ "${line#-}" = "$line" ] || { ignore=1; line=${line#-}; }
		echo "+ $key: $line"
		eval "$line" || { ((ignore)) || rc=1; }
	done <<<"$(unit_lines "$key")"
	((ran > 0)) || { echo "no $key line in $unit"; return 1; }
	return "$rc"
}
check "the unit has ExecStartPre, 2 ExecStart, 1 ExecStop lines" \
	test "$(unit_lines ExecStartPre | wc -l) $(unit_lines ExecStart | wc -l) $(unit_lines ExecStop | wc -l)" = "1 2 1"
if ((leases)); then
	run_unit_lines ExecStop; check "ExecStop (leases save) runs" test $? = 0
	check "the leases file is written" test -s /var/lib/usbvnet/leases.bin
fi
check "rmmod" rmmod usbvnet
run_unit_lines ExecStartPre; check "ExecStartPre (modprobe) loads the module" test $? = 0
wait_for 10 ip link show usbvnet0
check "the fresh module is in bridge mode" test "$("$ctl" info | sed -n 's/^mode=//p')" = 0
if ((leases)); then
	"$ctl" leases-export /tmp/leases.fresh
	run_unit_lines ExecStart; check "ExecStart (config apply, leases restore) runs" test $? = 0
	"$ctl" leases-export /tmp/leases.after
	hexmac=${e1_mac//:/}
	check "the fresh table is smaller, the restored one as large as before" \
		bash -c "(($(stat -c %s /tmp/leases.fresh) < $(stat -c %s /tmp/leases.before))) && (($(stat -c %s /tmp/leases.after) == $(stat -c %s /tmp/leases.before)))"
	check "the restored table holds the device's MAC" bash -c "od -An -v -tx1 /tmp/leases.after | tr -d ' \n' | grep -q $hexmac"
else
	# Without the leases commands, restore fails; its "-" prefix keeps the unit going.
	run_unit_lines ExecStart; check "ExecStart (config apply; leases restore may fail: \"-\") runs" test $? = 0
fi
check "the config is applied: mode private" test "$("$ctl" info | sed -n 's/^mode=//p')" = 1
lab_cleanup

phase "uninstall"
usbvnet uninstall --purge --json >"$out" && rc=0 || rc=$?
jq -r '.steps[] | "\(.status) \(.step): \(.detail)"' "$out"
check "uninstall --purge exits 0" test "$rc $(q .ok)" = "0 true"
check "uninstall unloaded the module" test ! -e /sys/module/usbvnet
usbvnet uninstall --purge >/tmp/uninstall2.txt 2>&1 && rc=0 || rc=$?
check "a second uninstall does nothing" bash -c "[ $rc = 0 ] && ! grep -Eq '^(done|failed) ' /tmp/uninstall2.txt"
changes >/tmp/changes.after
diff /tmp/changes.before /tmp/changes.after || true
check "no file left behind or changed, none deleted" cmp -s /tmp/changes.before /tmp/changes.after
check_not "modprobe finds no usbvnet any more" modprobe -n usbvnet
phase "done"

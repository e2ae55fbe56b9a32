# Guest side of `make bench`: cable-in to "the device holds a lease", timed
# from the write to the gadget's UDC file (the cable going in) to the DHCP
# client in the device's namespace reporting its lease. Three ways in the same guest,
# interleaved round by round, each with a fresh lease table (a new device):
#   usbvnet         the module loaded, usbvnet0 up; its in-driver server
#   dnsmasq-noping  no module: dnsmasq --no-ping already running; the host
#                   side (BENCH_HOST, below) gives the device's host-side
#                   netdev its address and brings it up once it registers
#   dnsmasq         the same, dnsmasq as shipped (it pings an address
#                   before offering it)
# Prints medians and usbvnet over each dnsmasq way (target <= 0.5 against
# --no-ping).
#
#   dev-e1: dhcpcd | udhcpc ── ECM ──> host: usbvnet0 | usbN (+dnsmasq)
#
# Per round it also prints each event's time after the plug: device carrier,
# host-side netdev up (opened by the module at attach; configured by the
# watcher for dnsmasq, which times it the same way for both), and the
# client's own lines (DISCOVER sent, OFFER taken, lease = ACK).
#
# The device's DHCP client (BENCH_DEVICE):
#   dhcpcd    (default) dhcpcd, the client of device OSes such as Raspberry
#             Pi OS, running from before the plug: it waits for carrier
#             itself and sends its DISCOVER the moment carrier comes. It
#             asks for Rapid Commit (RFC 4039) as its shipped dhcpcd.conf
#             does (BENCH_RAPID_COMMIT=0: not): a server that allows it
#             ACKs the DISCOVER at once. The in-driver server does by
#             default; dnsmasq only with --dhcp-rapid-commit, which
#             BENCH_DNSMASQ_ARGS can add to both dnsmasq ways.
#   exec      busybox udhcpc started the moment the link has carrier
#             (polled every 20 ms from before the plug); under TCG its exec
#             and its deconfig script cost ~0.9 s, the same for every way.
#   resident  udhcpc running from before the plug, sending a DISCOVER every
#             BENCH_DHCP_RETRY s (those before carrier go into a dead link),
#             and SIGUSR1 at carrier, which busybox 1.35 ignores while
#             selecting: the first DISCOVER after carrier comes at the
#             client's own cadence.
# The dnsmasq ways' host side (BENCH_HOST):
#   watcher   (default) a loop polling sysfs every 20 ms configures the new
#             netdev: as fast as a hotplug script can be
#   udev      systemd-udevd runs for every way (as on a real host: it also
#             names the netdevs) and a rule of ours configures the new
#             netdev (RUN+=, a shell and two ip commands), the way an
#             admin makes a transient interface serve DHCP
# A DISCOVER sent before the host opens its side waits in the gadget's
# queue; one the host side cannot answer yet is lost and the client resends
# (udhcpc after BENCH_DHCP_RETRY s, 1; dhcpcd after ~4 s). The figure
# includes the host-side netdev coming up: the module opens it at attach,
# dnsmasq needs the watcher.
. "$VM_LIB/lab.sh"
ROUNDS=${BENCH_ROUNDS:-3}
RETRY=${BENCH_DHCP_RETRY:-1}
DEVICE=${BENCH_DEVICE:-dhcpcd}
HOST=${BENCH_HOST:-watcher}
RAPID=${BENCH_RAPID_COMMIT:-1}
read -r -a DNSMASQ_ARGS <<<"${BENCH_DNSMASQ_ARGS:-}"
NET=100.127.254
work=/tmp/bench-cable
mkdir -p "$work"
results=$USBVNET_OUT/bench.tsv
: >"$results"
command -v dnsmasq >/dev/null || { echo "dnsmasq missing (dnsmasq-base)"; exit 1; }
command -v udhcpc >/dev/null || { echo "udhcpc missing"; exit 1; }
[ "$DEVICE" != dhcpcd ] || command -v dhcpcd >/dev/null || { echo "dhcpcd missing (dhcpcd-base)"; exit 1; }

udevd_pid=
trap 'stop_all; [ -z "$udevd_pid" ] || kill "$udevd_pid"; lab_cleanup' EXIT
pids=()
stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}

lab_init 1
# Once bound, the gadget-side netdev stays registered across unplug/replug:
# plug once, move it into dev-e1 and up, unplug. Every round then starts
# with the device's link down and its netdev waiting in its namespace.
gadget_create e1 ecm serial=CABLE1 >/dev/null
gadget_plug e1 >/dev/null
gadget_wait_host e1 >/dev/null
gadget_netns e1 >/dev/null
gadget_wait_carrier e1 >/dev/null
dif=$(gadget_dev_if e1)
gadget_unplug e1 >/dev/null
gadget_wait_gone e1 >/dev/null
_gvar g e1 gadget
_gvar udc e1 udc

if [ "$HOST" = udev ]; then
	udevd=$(command -v systemd-udevd || echo /lib/systemd/systemd-udevd)
	[ -x "$udevd" ] || { echo "systemd-udevd missing (udev)"; exit 1; }
	# Configures the device's host-side netdev while $work/configure
	# exists (the dnsmasq ways), after udev has named it.
	mkdir -p /run/udev/rules.d
	cat >/run/udev/rules.d/90-bench-cable.rules <<EOF
ACTION=="add", SUBSYSTEM=="net", ATTRS{serial}=="CABLE1", RUN+="/bin/sh -c '[ -e $work/configure ] || exit 0; ip addr replace $NET.1/24 dev \$name && ip link set \$name up'"
EOF
	"$udevd" >"$work/udevd.log" 2>&1 &
	udevd_pid=$!
	wait_for 10 udevadm control --ping || { echo "systemd-udevd did not start"; sed 's/^/    udevd: /' "$work/udevd.log"; exit 1; }
fi

# The device side, run in dev-e1 before the plug: waits for carrier, then
# starts or wakes udhcpc; every line it prints is stamped with the time it came.
cat >"$work/device.sh" <<'EOF'
dif=$1 out=$2 retry=$3 mode=$4 rapid=$5
f=$(mktemp -u /tmp/.cable.XXXXXX)
mkfifo "$f"
exec {z}<>"$f"
rm -f "$f"
client() {
	timeout 40 udhcpc -f -q -i "$dif" -t 60 -T "$retry" -A 1 -s /bin/true -p "$out.pid" 2>&1 |
		while IFS= read -r l; do echo "$EPOCHREALTIME $l" >>"$out"; done
	echo "exit $EPOCHREALTIME" >>"$out"
}
wait_carrier() { # polls every 20 ms, then stamps it
	local c=0
	until [ "$c" = 1 ]; do
		read -r c 2>/dev/null <"/sys/class/net/$dif/carrier" || c=0
		[ "$c" = 1 ] || read -r -t 0.02 -u "$z"
	done
	echo "carrier $EPOCHREALTIME" >>"$out"
}
# dhcpcd: the client of device OSes such as Raspberry Pi OS. Resident from
# before the plug, it waits for carrier itself (netlink) and sends its
# DISCOVER the moment it comes (nodelay); a lost one is resent after ~4 s
# (RFC 2131 backoff). noarp: like udhcpc here, no probe before taking the
# address. Its own mount namespace has a fresh lease database, so every
# round it is a new device (no INIT-REBOOT).
if [ "$mode" = dhcpcd ]; then
	printf '%s\n' ipv4only noarp nodelay noipv4ll 'option interface_mtu' >"$out.conf"
	[ "$rapid" != 1 ] || echo 'option rapid_commit' >>"$out.conf"
	unshare -m sh -c 'mount -t tmpfs tmpfs /var/lib/dhcpcd && exec dhcpcd -B -1 -d -t 40 -f "$1" -c /bin/true "$2"' \
		sh "$out.conf" "$dif" 2>&1 | while IFS= read -r l; do echo "$EPOCHREALTIME $l" >>"$out"; done &
	until grep -q 'waiting for carrier' "$out"; do read -r -t 0.05 -u "$z"; done
	echo "waiting $EPOCHREALTIME" >>"$out"
	wait_carrier
	wait
	echo "exit $EPOCHREALTIME" >>"$out"
	exit
fi
pid=
if [ "$mode" = resident ]; then
	rm -f "$out.pid"
	client &
	until read -r pid 2>/dev/null <"$out.pid" && [ -n "$pid" ]; do read -r -t 0.02 -u "$z"; done
fi
echo "waiting $EPOCHREALTIME" >>"$out"
wait_carrier
if [ -n "$pid" ]; then
	kill -USR1 "$pid"
	wait
else
	client
fi
EOF

# The hotplug watcher of the dnsmasq ways, in the init namespace.
# Polls every 20 ms without forking (gadget_host_if would fork per poll).
host_watch() { # OUT configure|observe
	local n v f hif= ddir
	while [ -z "$hif" ]; do
		for n in /sys/class/net/*; do
			[ -e "$n/device" ] || continue
			v=
			read -r v 2>/dev/null <"$n/device/../serial" || true
			[ "$v" != CABLE1 ] || { hif=${n##*/}; break; }
		done
		[ -n "$hif" ] || nap 0.02
	done
	if [ "$2" = configure ]; then
		printf 'addr replace %s/24 dev %s\nlink set %s up\n' $NET.1 "$hif" "$hif" | ip -b -
	else # observe: the module opens it when it attaches it, or udev's rule
		# Through the USB interface's directory: udev may rename the netdev.
		local flags=0
		ddir=$(cd -P "/sys/class/net/$hif/device" && pwd)
		until ((flags & 1)); do
			for f in "$ddir"/net/*/flags; do read -r flags 2>/dev/null <"$f" || flags=0; done
			((flags & 1)) || nap 0.02
		done
		hif=${f%/flags} hif=${hif##*/}
	fi
	echo "host_up $EPOCHREALTIME $hif" >>"$1"
}

setup() { # WAY OUT
	case $1 in
	usbvnet)
		insmod "$USBVNET_KO"
		wait_for 10 ip link show usbvnet0
		ip link set usbvnet0 up
		ip addr replace $NET.1/24 dev usbvnet0
		# The same polling as the dnsmasq ways' watcher, only to time it.
		host_watch "$2" observe &
		pids+=($!)
		;;
	dnsmasq*)
		local noping=
		[ "$1" != dnsmasq-noping ] || noping=--no-ping
		rm -f "$work/dnsmasq.leases"
		# The same flags for both; --no-ping for the one that says so.
		dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port=0 \
			--no-resolv --no-hosts --except-interface=lo \
			--dhcp-range=$NET.10,$NET.249,255.255.255.0,1h \
			${noping:+"$noping"} "${DNSMASQ_ARGS[@]}" \
			--dhcp-leasefile="$work/dnsmasq.leases" --pid-file="$work/dnsmasq.pid" \
			--log-facility=- >"$work/dnsmasq.$1.log" 2>&1 &
		pids+=($!)
		wait_for 10 grep -q 'DHCP, IP range' "$work/dnsmasq.$1.log" ||
			{ sed 's/^/    dnsmasq: /' "$work/dnsmasq.$1.log"; return 1; }
		if [ "$HOST" = udev ]; then
			touch "$work/configure"
			host_watch "$2" observe &
		else
			host_watch "$2" configure &
		fi
		pids+=($!)
		;;
	esac
}

teardown() { # WAY
	echo "" >"$g/UDC"
	gadget_wait_gone e1 >/dev/null
	stop_all
	case $1 in
	usbvnet) rmmod usbvnet ;;
	esac
	rm -f "$work/configure"
	ip neigh flush all
	dev e1 ip neigh flush all
	dev e1 ip -4 addr flush dev "$dif"
}

# Builtins only: an exec costs 0.1-1 s of a 2-CPU TCG guest, and this polls
# while the measured work runs.
done_in() {
	local l
	while IFS= read -r l; do [[ $l == *obtained* || $l == *leased* || $l == exit* ]] && return 0; done <"$1"
	return 1
}

measure() { # WAY ROUND
	local way=$1 out=$work/cable.$1.$2 t0 t_carrier t_lease t_host t_disc discovers line
	: >"$out"
	setup "$way" "$out" || return 1
	ip netns exec dev-e1 bash "$work/device.sh" "$dif" "$out" "$RETRY" "$DEVICE" "$RAPID" &
	pids+=($!)
	wait_for 10 grep -q '^waiting' "$out"
	nap 0.2
	t0=$EPOCHREALTIME
	echo "$udc" >"$g/UDC"
	wait_for 40 done_in "$out"
	t_carrier= t_lease= t_host= t_disc= discovers=0
	# Only DISCOVERs after carrier count: a resident client's earlier ones
	# went into a dead link.
	while read -r -a line; do
		case "${line[*]}" in
		carrier*) t_carrier=${line[1]} ;;
		host_up*) t_host=${line[1]} ;;
		*discover* | *DISCOVER*)
			[ -n "$t_carrier" ] || continue
			discovers=$((discovers + 1))
			[ -n "$t_disc" ] || t_disc=${line[0]}
			;;
		*obtained* | *leased*) [ -n "$t_lease" ] || t_lease=${line[0]} ;;
		esac
	done <"$out"
	since() { [ -n "$1" ] && awk -v a="$t0" -v b="$1" 'BEGIN { printf "%.3f", b - a }' || echo -; }
	exchange=-
	[ -z "$t_lease" ] || [ -z "$t_disc" ] || exchange=$(awk -v a="$t_disc" -v b="$t_lease" 'BEGIN { printf "%.3f", b - a }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$way" "$2" "$(since "$t_lease")" "$(since "$t_carrier")" \
		"$(since "$t_host")" "$(since "$t_disc")" "$exchange" "$discovers" | tee -a "$results"
	# Where the time went: every event after the plug.
	awk -v t0="$t0" '$1 ~ /^[0-9]/ { printf "    +%.3f %s\n", $1 - t0, substr($0, length($1) + 2); next }
		$2 ~ /^[0-9]/ && $1 != "waiting" { printf "    +%.3f %s %s\n", $2 - t0, $1, $3 }' "$out"
	[ -n "$t_lease" ] || echo "no lease ($way)"
	# A reply the slot's lower could not take counts as its tx_dropped.
	[ "$way" != usbvnet ] ||
		"$USBVNET_SRC/build/vm/tools/ioctl-test" slot 0 | sed -n 's/^tx_dropped=/    slot 0 tx_dropped /p'
	teardown "$way"
}

echo "device client $DEVICE${RAPID:+, rapid commit $RAPID}, host side $HOST, dnsmasq extra args: ${DNSMASQ_ARGS[*]:-none}"
printf 'way\tround\tlease_s\tcarrier_s\thost_up_s\tdiscover1_s\texchange_s\tdiscovers\n'
for round in $(seq 1 "$ROUNDS"); do
	for way in usbvnet dnsmasq-noping dnsmasq; do
		measure "$way" "$round" || { echo "setup $way failed"; exit 1; }
	done
done

node - "$results" <<'JS'
// Columns: way round lease_s carrier_s host_up_s discover1_s exchange_s discovers ("-": none)
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(l => l.split('\t'));
const median = a => { const s = a.filter(Number.isFinite).sort((x, y) => x - y); const m = s.length >> 1; return !s.length ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const ways = ['usbvnet', 'dnsmasq-noping', 'dnsmasq'];
const cols = [2, 3, 4, 5, 6, 7];
const med = {};
console.log('\nmedians, s after the UDC write     lease  carrier  host up  1st DISCOVER  DISCOVER->lease  DISCOVERs');
for (const w of ways) {
	const r = rows.filter(x => x[0] === w);
	med[w] = cols.map(i => median(r.map(x => (x[i] === '-' ? NaN : Number(x[i])))));
	const got = r.filter(x => x[2] !== '-').length;
	const widths = [7, 9, 9, 14, 17, 11];
	console.log(w.padEnd(31), ...med[w].map((v, i) => (Number.isFinite(v) ? v.toFixed(i === 5 ? 0 : 2) : '-').padStart(widths[i])), ` (${got}/${r.length} leased)`);
}
const f = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
console.log('\nratio usbvnet/dnsmasq-noping, cable-in to lease:', f(med.usbvnet[0], med['dnsmasq-noping'][0]), '(target <= 0.5)');
console.log('ratio usbvnet/dnsmasq as shipped (ping check), cable-in to lease:', f(med.usbvnet[0], med.dnsmasq[0]));
console.log('ratio usbvnet/dnsmasq-noping, host side up:', f(med.usbvnet[2], med['dnsmasq-noping'][2]),
	' first DISCOVER to lease:', f(med.usbvnet[4], med['dnsmasq-noping'][4]));
JS

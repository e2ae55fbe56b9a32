# Guest side of `make bench`: DHCP exchange rate. perfdhcp plays many
# devices from one ECM device's namespace against two servers serving the
# same link in the same guest, interleaved round by round:
#   usbvnet  the in-driver server (usbvnet0, the device in slot 0)
#   dnsmasq  no module: dnsmasq --no-ping on the device's host-side netdev
# Each round sweeps the offered rate (perfdhcp -r); prints completed DORA
# exchanges per second and drops per offered rate, each round's best
# completed rate (median over rounds) and usbvnet/dnsmasq. Under TCG the
# client side (perfdhcp sending and receiving in the guest) runs out first
# for the in-driver server: the "client side" and "server" lines say where
# exchanges were lost (server counters: every request answered or not).
# A drop is perfdhcp's: no reply within 1 s (-d), late replies included.
# dnsmasq runs with --quiet-dhcp (no log line per packet).
#
#   dev-e1: perfdhcp (200 client MACs) ── ECM ──> host: usbvnet0 | usbN+dnsmasq
#
# perfdhcp (DHCPv4) always poses as a relay (giaddr = its own address, from
# port 67), and the in-driver server drops relayed requests (no relays on a
# USB link). So it runs from templates (-T), which it sends as written: a
# client's DISCOVER and REQUEST with giaddr 0 and the broadcast flag. The
# replies (broadcast, to port 68) reach its socket (bound to the device's
# address, -L 68) through a stateless tc nat on the device's ingress. Both
# servers see exactly the same frames.
# Pool: .10 to .249 for both (240 addresses, the in-driver pool holds at
# most 256), 200 distinct clients (-R), so every client keeps its address
# and no exchange fails for want of one; the in-driver per-slot cap (4) is
# raised to 256 for the run, as all clients come through one slot.
. "$VM_LIB/lab.sh"
trap 'pkill_ours; lab_cleanup' EXIT
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECS:-5}
# Offered DORA/s, swept: the figure is the best completed rate. Offering
# far more than the client side can take only measures perfdhcp's losses.
RATES=${BENCH_DHCP_RATES:-50 100 200 400 800 1600}
CLIENTS=${BENCH_DHCP_CLIENTS:-200}
NET=100.127.254
DEV_IP=$NET.254
work=/tmp/bench-dhcp
mkdir -p "$work"
results=$USBVNET_OUT/bench.tsv
: >"$results"

command -v perfdhcp >/dev/null || { echo "perfdhcp missing (Debian: kea-admin; test/setup/deps.sh)"; exit 1; }
command -v dnsmasq >/dev/null || { echo "dnsmasq missing (dnsmasq-base)"; exit 1; }
cc -O2 -I "$USBVNET_SRC/linux-module/uapi" -o "$work/dhcp-conf" "$USBVNET_SRC/test/bench/dhcp-conf.c" ||
	{ echo "cannot build dhcp-conf"; exit 1; }

dnsmasq_pid=
pkill_ours() { [ -z "$dnsmasq_pid" ] || kill "$dnsmasq_pid" 2>/dev/null; dnsmasq_pid=; }

# Templates (hex, the BOOTP message from op on): DISCOVER, and REQUEST with
# server id (option 54) at offset 243 and requested address (50) at 249,
# which perfdhcp fills from the OFFER. xid at 4, chaddr's last octet at 33.
hex() { printf '%s' "$@"; }
zeros() { printf '%0*d' $(($1 * 2)) 0; }
header() { hex 01010600 00000000 0000 8000; zeros 16; hex 000c01020304; zeros 10; zeros 192; hex 63825363; }
{ header; hex 350101 3703010333 ff; zeros 51; } >"$work/discover.hex"
{ header; hex 350103 360400000000 320400000000 ff; zeros 44; } >"$work/request.hex"

lab_init 1
gadget_add e1 ecm ip=$DEV_IP/24 >/dev/null
lower=$(gadget_host_if e1)
dif=$(gadget_dev_if e1)
# Broadcast replies to port 68 -> the device's own address, for perfdhcp.
modprobe -a sch_ingress cls_u32 act_nat
dev e1 tc qdisc add dev "$dif" ingress
dev e1 tc filter add dev "$dif" parent ffff: protocol ip prio 1 u32 \
	match ip protocol 17 0xff match ip dport 68 0xffff \
	action nat ingress 255.255.255.255/32 "$DEV_IP"

setup() {
	case $1 in
	usbvnet)
		insmod "$USBVNET_KO"
		wait_for 10 test -e "/sys/class/net/usbvnet0/lower_$lower"
		ip link set usbvnet0 up
		ip addr replace $NET.1/24 dev usbvnet0
		"$work/dhcp-conf" enable 1 cap 256 pool $NET.10 $NET.249 >/dev/null
		;;
	dnsmasq)
		ip addr replace $NET.1/24 dev "$lower"
		rm -f "$work/dnsmasq.leases"
		dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port=0 \
			--no-resolv --no-hosts --interface="$lower" --bind-interfaces \
			--dhcp-range=$NET.10,$NET.249,255.255.255.0,1h --no-ping --quiet-dhcp \
			--dhcp-leasefile="$work/dnsmasq.leases" --pid-file="$work/dnsmasq.pid" \
			--log-facility=- >"$work/dnsmasq.log" 2>&1 &
		dnsmasq_pid=$!
		wait_for 10 grep -q 'DHCP, IP range' "$work/dnsmasq.log" ||
			{ sed 's/^/    dnsmasq: /' "$work/dnsmasq.log"; return 1; }
		;;
	esac
	ip link set "$lower" up
	gadget_wait_carrier e1 >/dev/null || { echo "$1: no carrier"; return 1; }
	wait_for 10 dev e1 ping -c 1 -W 1 $NET.1 || { echo "$1: device cannot ping $NET.1"; return 1; }
}

teardown() {
	case $1 in
	usbvnet) rmmod usbvnet ;;
	dnsmasq) pkill_ours; ip addr flush dev "$lower" ;;
	esac
	ip neigh flush all
	dev e1 ip neigh flush all # .1 moves between usbvnet0's MAC and the lower's
}

perf() { # extra perfdhcp args
	timeout $((SECS + 30)) ip netns exec dev-e1 perfdhcp -4 -l "$dif" -L 68 -B -R "$CLIENTS" \
		-T "$work/discover.hex" -T "$work/request.hex" -X 4 -X 4 -O 33 -O 33 -S 243 -I 249 \
		"$@" 255.255.255.255
}

# Prints: rate do_sent do_rcvd do_drops ra_sent ra_rcvd ra_drops
parse() {
	awk '/^Rate:/ { rate = $2 }
		/Statistics for: DISCOVER-OFFER/ { s = "do" } /Statistics for: REQUEST-ACK/ { s = "ra" }
		/^sent packets:/ { sent[s] = $3 } /^received packets:/ { rcvd[s] = $3 } /^drops:/ { drops[s] = $2 }
		END { printf "%s %d %d %d %d %d %d\n", rate + 0, sent["do"], rcvd["do"], drops["do"],
			sent["ra"], rcvd["ra"], drops["ra"] }' "$1"
}

udp_errs() { dev e1 awk '/^Udp:/ && $2 ~ /^[0-9]/ { print "udp_in=" $2 " rcvbuf_errs=" $6 }' /proc/net/snmp; }
measure() { # WAY ROUND RATE
	local way=$1 out=$work/perfdhcp.$1.$2.$3 r before
	# One exchange first: the path works (and the ARP/route caches are warm).
	perf -n 1 -d 2 >"$out.probe" 2>&1
	before="$(udp_errs) lower_tx_dropped=$(cat "/sys/class/net/$lower/statistics/tx_dropped")"
	perf -r "$3" -p "$SECS" >"$out" 2>&1
	read -r -a r <<<"$(parse "$out")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$way" "$2" "$3" "${r[@]}" | tee -a "$results"
	echo "    client side before: $before; after: $(udp_errs) lower_tx_dropped=$(cat "/sys/class/net/$lower/statistics/tx_dropped")"
	if [ "${r[5]}" = 0 ]; then
		echo "no exchange completed ($way); perfdhcp said:"; sed 's/^/    /' "$out.probe" "$out" | tail -n 40
		[ "$way" != usbvnet ] || "$USBVNET_SRC/build/vm/tools/ioctl-test" dhcp 2>/dev/null | tr '\n' ' '
		dev e1 tc -s filter show dev "$dif" parent ffff: | sed 's/^/    /'
		[ "$way" != dnsmasq ] || sed 's/^/    dnsmasq: /' "$work/dnsmasq.log" | tail -n 10
	fi
	if [ "$way" = usbvnet ]; then
		"$USBVNET_SRC/build/vm/tools/ioctl-test" dhcp 2>/dev/null |
			awk -F= '/^(received|discover|request|offer|ack|nak|exhausted|slot_cap|relayed|leases_bound)=/ { printf "%s=%s ", $1, $2 } END { print "" }' |
			sed 's/^/    server: /'
	fi
}

echo "perfdhcp: $CLIENTS clients, offered $RATES DORA/s for $SECS s each, $ROUNDS rounds"
# Client side: room for bursts of replies while perfdhcp (TCG) catches up.
sysctl -q -w net.core.rmem_default=4194304 net.core.rmem_max=4194304
printf 'way\tround\toffered\tdora_per_s\tdo_sent\tdo_rcvd\tdo_drops\tra_sent\tra_rcvd\tra_drops\n'
for round in $(seq 1 "$ROUNDS"); do
	for way in usbvnet dnsmasq; do
		setup "$way" || { echo "setup $way failed"; exit 1; }
		for rate in $RATES; do measure "$way" "$round" "$rate"; done
		teardown "$way"
	done
done

node - "$results" <<'JS'
// Columns: way round offered dora_per_s do_sent do_rcvd do_drops ra_sent ra_rcvd ra_drops
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(l => l.split('\t'));
const median = a => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (d, n) => (Number(n) ? (100 * Number(d)) / Number(n) : 0);
const ways = ['usbvnet', 'dnsmasq'];
const offered = [...new Set(rows.map(x => Number(x[2])))].sort((a, b) => a - b);
console.log('\nmedian completed DORA/s by offered rate (DISCOVER drops %, REQUEST drops %)');
console.log('offered'.padEnd(9), ...ways.map(w => w.padStart(26)));
for (const o of offered)
	console.log(String(o).padEnd(9), ...ways.map(w => {
		const r = rows.filter(x => x[0] === w && Number(x[2]) === o);
		if (!r.length) return 'n/a'.padStart(26);
		const v = `${median(r.map(x => Number(x[3]))).toFixed(1)} (${median(r.map(x => pct(x[6], x[4]))).toFixed(0)}%, ${median(r.map(x => pct(x[9], x[7]))).toFixed(0)}%)`;
		return v.padStart(26);
	}));
// Each round's best completed rate over the sweep, then the median of those.
const best = {};
for (const w of ways) {
	const rounds = [...new Set(rows.filter(x => x[0] === w).map(x => x[1]))];
	best[w] = median(rounds.map(rd => Math.max(...rows.filter(x => x[0] === w && x[1] === rd).map(x => Number(x[3])))));
}
console.log('\nbest completed DORA/s (median over rounds):', ways.map(w => `${w} ${best[w].toFixed(1)}`).join(', '));
console.log('ratio usbvnet/dnsmasq:', best.dnsmasq > 0 ? (best.usbvnet / best.dnsmasq).toFixed(2) : 'n/a', '(target >= 10)');
JS

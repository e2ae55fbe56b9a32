# Guest side of `make bench`: DHCP exchange rate. A load generator plays
# vm-timeout: 3000
# many clients from each ECM device's namespace against two servers serving
# the same link in the same guest, interleaved round by round:
#   usbvnet  the in-driver server (usbvnet0, the device in slot 0)
#   dnsmasq  no module: dnsmasq --no-ping on the device's host-side netdev
# Three workloads, each with its own figure and ratio:
#   perfdhcp   Kea's, open loop: the offered rate (-r) is swept
#   dhcp-load  ours (dhcp-load.c), open loop the same way, with at most
#              200 exchanges in flight (one per client, as with perfdhcp):
#              past what the server completes it runs closed loop, 200 at
#              a time, rather than piling up queues; far cheaper per
#              packet than perfdhcp under emulation, so the server, not
#              the client, sets the rate. The window matters to the
#              in-driver server: each exchange waits for four crossings of
#              the emulated USB link, which dummy_hcd makes on its timer
#              ticks (4 ms at HZ=250); 64 in flight held it to 6979-8672/s
#              a round (lab), 200 gave 7990-10947/s
#   dhcp-churn dhcp-load -x: the same, at most 100 in flight (64 gave
#              5772-6435/s, 100 7297-7423/s), but every exchange is a new
#              client (65536 MACs) that RELEASEs its address at once after
#              the ACK: devices coming and going rather than the same 200
#              coming back
# Each round sweeps the load and the number of client devices (one
# generator per device namespace, all at once, the load split among them);
# prints completed DORA exchanges per second (summed over the devices) and
# drops per load, each round's best completed rate over the whole sweep
# (median over rounds) and usbvnet/dnsmasq: each server's best over every
# device count, so neither is held back by the client side of one count.
# Under TCG perfdhcp (sending and receiving in the guest) runs out first
# for the in-driver server: the "client side" and "server" lines say where
# exchanges were lost (server counters: every request answered or not).
# A drop is an exchange with no reply within 1 s, late replies included.
# dnsmasq runs with --quiet-dhcp (no log line per packet) and keeps its
# lease file (tmpfs) as shipped: it rewrites the whole file whenever a
# lease's expiry (in seconds) changes, which is most of its cost here.
# BENCH_DNSMASQ_ARGS adds options, e.g. --leasefile-ro to measure it
# without the file.
#
#   dev-eK: generator (200/N client MACs) ── ECM ──> host: usbvnet0 | usbN+dnsmasq
#   (K = 1..N devices; one dnsmasq serves all N host-side netdevs)
#
# perfdhcp (DHCPv4) always poses as a relay (giaddr = its own address, from
# port 67), and the in-driver server drops relayed requests (no relays on a
# USB link). So it runs from templates (-T), which it sends as written: a
# client's DISCOVER and REQUEST with giaddr 0 and the broadcast flag. The
# replies (broadcast, to port 68) reach its socket (bound to the device's
# address, -L 68) through a stateless tc nat on the device's ingress. Both
# servers see exactly the same frames.
# Pool: .10 to .249 for both (240 addresses, the in-driver pool holds at
# most 256), 200 distinct clients (-R) in all, so every client keeps its
# address and no exchange fails for want of one; the in-driver per-slot cap
# (4) is raised to 256 for the run, as all clients come through one or two
# slots. Each generator and device count gets a fresh server: their client
# MACs differ, and all of them together would not fit the pool. dnsmasq:
# each host-side netdev has its own address in the same subnet (.1, .2),
# so one pool serves them all as usbvnet0's does.
. "$VM_LIB/lab.sh"
. "$VM_LIB/cli-runtime.sh"
trap 'pkill_ours; lab_cleanup' EXIT
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECS:-5}
# Offered DORA/s in all, swept: the figure is the best completed rate.
# Offering far more than the client side can take only measures perfdhcp's
# losses.
RATES=${BENCH_DHCP_RATES:-200 400 800 1600 3200 6400}
# dhcp-load's offered rates: it goes further than perfdhcp.
LOAD_RATES=${BENCH_DHCP_LOAD_RATES:-200 400 800 1600 3200 6400 12800}
# Exchanges in flight at most, in all (split among the devices).
LOAD_WINDOW=${BENCH_DHCP_LOAD_WINDOW:-200}
GENERATORS=${BENCH_DHCP_GENERATORS:-perfdhcp dhcp-load dhcp-churn}
# dhcp-churn's client MACs per run, in all: more than it can go through.
CHURN_CLIENTS=${BENCH_DHCP_CHURN_CLIENTS:-65536}
# dhcp-churn's window: below the pool (240), as every exchange in flight
# holds an offered address until its REQUEST, and a new client per exchange
# cannot reuse one; at 200 the in-driver pool ran out (counted exhausted,
# dropped DISCOVERs).
CHURN_WINDOW=${BENCH_DHCP_CHURN_WINDOW:-100}
# Client devices, each with its own generator, swept.
DEVICE_COUNTS=${BENCH_DHCP_DEVICES:-1 2}
CLIENTS=${BENCH_DHCP_CLIENTS:-200}
# dhcp-load's window is at most one exchange per client.
((LOAD_WINDOW <= CLIENTS)) || LOAD_WINDOW=$CLIENTS
# perfdhcp in single-thread mode (-g single): its receiver thread costs the
# 2-CPU guest more than it gains, for both servers (lab: usbvnet 2880 vs
# 1820/s, dnsmasq 430 vs 310/s). More options, for experiments.
read -r -a PERF_ARGS <<<"${BENCH_PERFDHCP_ARGS:--g single}"
read -r -a DNSMASQ_ARGS <<<"${BENCH_DNSMASQ_ARGS:-}"
NET=100.127.254
work=/tmp/bench-dhcp
mkdir -p "$work"
results=$USBVNET_OUT/bench.tsv
: >"$results"

command -v perfdhcp >/dev/null || { echo "perfdhcp missing (Debian: kea-admin; test/setup/deps.sh)"; exit 1; }
command -v dnsmasq >/dev/null || { echo "dnsmasq missing (dnsmasq-base)"; exit 1; }
cli_runtime_unpack
# The in-driver server's settings for the run, applied by the CLI.
printf '{"dhcp": {"enabled": true, "perSlotCap": 256, "pool": {"start": "%s", "end": "%s"}}}\n' \
	"$NET.10" "$NET.249" >"$work/usbvnet.json"
cc -O2 -o "$work/dhcp-load" "$USBVNET_SRC/test/bench/dhcp-load.c" || { echo "cannot build dhcp-load"; exit 1; }
max_devices=0
for n in $DEVICE_COUNTS; do ((n > max_devices)) && max_devices=$n; done

dnsmasq_pid=
pkill_ours() { [ -z "$dnsmasq_pid" ] || kill "$dnsmasq_pid" 2>/dev/null; dnsmasq_pid=; }

# Templates (hex, the BOOTP message from op on), per device K: DISCOVER,
# and REQUEST with server id (option 54) at offset 243 and requested
# address (50) at 249, which perfdhcp fills from the OFFER. xid at 4,
# chaddr at 28: perfdhcp writes there each client's MAC, made from
# 00:0c:K:02:03:04 (-b), so the devices' clients are distinct (the in-driver
# server ignores a MAC that holds a lease on another slot, as "foreign").
hex() { printf '%s' "$@"; }
zeros() { printf '%0*d' $(($1 * 2)) 0; }
header() { hex 01010600 00000000 0000 8000; zeros 16; hex "000c$(printf %02x "$1")020304"; zeros 10; zeros 192; hex 63825363; }

lab_init "$max_devices"
modprobe -a sch_ingress cls_u32 act_nat
lowers=() difs=() dev_ips=()
for k in $(seq 1 "$max_devices"); do
	dev_ip=$NET.$((255 - k))
	gadget_add "e$k" ecm ip="$dev_ip/24" >/dev/null
	lowers+=("$(gadget_host_if "e$k")")
	difs+=("$(gadget_dev_if "e$k")")
	dev_ips+=("$dev_ip")
	{ header "$k"; hex 350101 3703010333 ff; zeros 51; } >"$work/discover.$k.hex"
	{ header "$k"; hex 350103 360400000000 320400000000 ff; zeros 44; } >"$work/request.$k.hex"
	# Broadcast replies to port 68 -> the device's own address, for perfdhcp.
	dev "e$k" tc qdisc add dev "${difs[-1]}" ingress
	dev "e$k" tc filter add dev "${difs[-1]}" parent ffff: protocol ip prio 1 u32 \
		match ip protocol 17 0xff match ip dport 68 0xffff \
		action nat ingress 255.255.255.255/32 "$dev_ip"
done

setup() {
	local i ifs=()
	case $1 in
	usbvnet)
		insmod "$USBVNET_KO"
		for i in "${!lowers[@]}"; do wait_for 10 test -e "/sys/class/net/usbvnet0/lower_${lowers[i]}"; done
		ip link set usbvnet0 up
		ip addr replace $NET.1/24 dev usbvnet0
		node "$CLI_ROOT/cli/bin/run.js" config apply "$work/usbvnet.json" >"$work/apply.log" 2>&1 ||
			{ sed 's/^/    config apply: /' "$work/apply.log"; return 1; }
		;;
	dnsmasq)
		for i in "${!lowers[@]}"; do
			ip addr replace "$NET.$((i + 1))/24" dev "${lowers[i]}"
			ifs+=(--interface="${lowers[i]}")
		done
		rm -f "$work/dnsmasq.leases"
		dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port=0 \
			--no-resolv --no-hosts "${ifs[@]}" --bind-interfaces \
			--dhcp-range=$NET.10,$NET.249,255.255.255.0,1h --no-ping --quiet-dhcp \
			--dhcp-leasefile="$work/dnsmasq.leases" --pid-file="$work/dnsmasq.pid" \
			--log-facility=- "${DNSMASQ_ARGS[@]}" >"$work/dnsmasq.log" 2>&1 &
		dnsmasq_pid=$!
		wait_for 10 grep -q 'DHCP, IP range' "$work/dnsmasq.log" ||
			{ sed 's/^/    dnsmasq: /' "$work/dnsmasq.log"; return 1; }
		;;
	esac
	for i in "${!lowers[@]}"; do
		ip link set "${lowers[i]}" up
		# Every device reaches its own server address through its own
		# netdev (dnsmasq's netdevs share one subnet).
		[ "$1" != dnsmasq ] || ip route replace "${dev_ips[i]}/32" dev "${lowers[i]}"
	done
	for i in "${!lowers[@]}"; do
		local server=$NET.1
		[ "$1" != dnsmasq ] || server=$NET.$((i + 1))
		gadget_wait_carrier "e$((i + 1))" >/dev/null || { echo "$1: e$((i + 1)) no carrier"; return 1; }
		wait_for 10 dev "e$((i + 1))" ping -c 1 -W 1 "$server" ||
			{ echo "$1: e$((i + 1)) cannot ping $server"; return 1; }
	done
}

teardown() {
	local l
	case $1 in
	usbvnet) rmmod usbvnet ;;
	dnsmasq) pkill_ours; for l in "${lowers[@]}"; do ip addr flush dev "$l"; done ;;
	esac
	ip neigh flush all
	# .1 moves between usbvnet0's MAC and the lowers'
	for l in $(seq 1 "$max_devices"); do dev "e$l" ip neigh flush all; done
}

perf() { # K extra perfdhcp args
	local k=$1
	shift
	timeout $((SECS + 30)) ip netns exec "dev-e$k" perfdhcp -4 -l "${difs[k - 1]}" -L 68 -B \
		-b "mac=00:0c:$(printf %02x "$k"):02:03:04" \
		-T "$work/discover.$k.hex" -T "$work/request.$k.hex" -X 4 -X 4 -O 33 -O 33 -S 243 -I 249 \
		"${PERF_ARGS[@]}" "$@" 255.255.255.255
}

load() { # [-x] K CLIENTS WINDOW SECS [RATE]
	local churn=()
	[ "$1" != -x ] || { churn=(-x); shift; }
	ip netns exec "dev-e$1" timeout $(($4 + 30)) "$work/dhcp-load" "${churn[@]}" "${difs[$1 - 1]}" "$@"
}

# Prints: rate do_sent do_rcvd do_drops ra_sent ra_rcvd ra_drops, summed
# over the reports given (one per device), perfdhcp's or dhcp-load's.
parse() {
	awk '/^completed=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			rate += v["rate"]; sent["do"] += v["discover"]; rcvd["do"] += v["offer"]
			sent["ra"] += v["request"]; rcvd["ra"] += v["ack"] + v["nak"]
			drops["do"] += v["drops_offer"]; drops["ra"] += v["drops_ack"] }
		/^Rate:/ { rate += $2 }
		/Statistics for: DISCOVER-OFFER/ { s = "do" } /Statistics for: REQUEST-ACK/ { s = "ra" }
		/^sent packets:/ { sent[s] += $3 } /^received packets:/ { rcvd[s] += $3 } /^drops:/ { drops[s] += $2 }
		END { printf "%s %d %d %d %d %d %d\n", rate + 0, sent["do"], rcvd["do"], drops["do"],
			sent["ra"], rcvd["ra"], drops["ra"] }' "$@"
}

client_side() { # N: every device's UDP counters and its lower's tx_dropped
	local k
	for k in $(seq 1 "$1"); do
		printf 'e%s %s lower_tx_dropped=%s; ' "$k" \
			"$(dev "e$k" awk '/^Udp:/ && $2 ~ /^[0-9]/ { print "udp_in=" $2 " rcvbuf_errs=" $6 }' /proc/net/snmp)" \
			"$(cat "/sys/class/net/${lowers[k - 1]}/statistics/tx_dropped")"
	done
}
measure() { # WAY ROUND GENERATOR DEVICES LOAD
	local way=$1 gen=$3 n=$4 out=$work/$3.$1.$2.$4.$5 k r sum before pids=() reports=()
	# One exchange first per device: the path works (and the ARP/route
	# caches are warm).
	for k in $(seq 1 "$n"); do
		case $gen in
		perfdhcp) perf "$k" -n 1 -d 2 -R 1 ;;
		dhcp-load | dhcp-churn) load "$k" 1 1 1 ;;
		esac >"$out.$k.probe" 2>&1
	done
	before=$(client_side "$n")
	for k in $(seq 1 "$n"); do
		case $gen in
		perfdhcp) perf "$k" -R $((CLIENTS / n)) -r $(($5 / n)) -p "$SECS" ;;
		dhcp-load) load "$k" $((CLIENTS / n)) $((LOAD_WINDOW / n)) "$SECS" $(($5 / n)) ;;
		dhcp-churn) load -x "$k" $((CHURN_CLIENTS / n)) $((CHURN_WINDOW / n)) "$SECS" $(($5 / n)) ;;
		esac >"$out.$k" 2>&1 &
		pids+=($!) reports+=("$out.$k")
	done
	wait "${pids[@]}"
	for k in $(seq 1 "$n"); do
		read -r -a r <<<"$(parse "$out.$k")"
		if [ "${r[5]}" = 0 ]; then
			echo "no exchange completed ($way, e$k); $gen said:"
			sed 's/^/    /' "$out.$k.probe" "$out.$k" | tail -n 40
			[ "$way" != usbvnet ] || "$USBVNET_SRC/build/vm/tools/ioctl-test" dhcp 2>/dev/null | tr '\n' ' '
			dev "e$k" tc -s filter show dev "${difs[k - 1]}" parent ffff: | sed 's/^/    /'
			[ "$way" != dnsmasq ] || sed 's/^/    dnsmasq: /' "$work/dnsmasq.log" | tail -n 10
		fi
	done
	read -r -a sum <<<"$(parse "${reports[@]}")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$way" "$2" "$gen" "$n" "$5" "${sum[@]}" | tee -a "$results"
	echo "    client side before: $before"
	echo "    client side after:  $(client_side "$n")"
	if [ "$way" = usbvnet ]; then
		"$USBVNET_SRC/build/vm/tools/ioctl-test" dhcp 2>/dev/null |
			awk -F= '/^(received|discover|request|offer|ack|nak|exhausted|slot_cap|relayed|leases_bound)=/ { printf "%s=%s ", $1, $2 } END { print "" }' |
			sed 's/^/    server: /'
	fi
}

echo "$CLIENTS clients over $DEVICE_COUNTS devices, $SECS s per load, $ROUNDS rounds; offered DORA/s: perfdhcp $RATES, dhcp-load and dhcp-churn $LOAD_RATES (at most $LOAD_WINDOW, churn $CHURN_WINDOW in flight)"
# Client side: room for bursts of replies while perfdhcp (TCG) catches up.
sysctl -q -w net.core.rmem_default=4194304 net.core.rmem_max=4194304
printf 'way\tround\tgenerator\tdevices\tload\tdora_per_s\tdo_sent\tdo_rcvd\tdo_drops\tra_sent\tra_rcvd\tra_drops\n'
for round in $(seq 1 "$ROUNDS"); do
	for way in usbvnet dnsmasq; do
		for gen in $GENERATORS; do
			loads=$RATES
			[ "$gen" = perfdhcp ] || loads=$LOAD_RATES
			for n in $DEVICE_COUNTS; do
				setup "$way" || { echo "setup $way failed"; exit 1; }
				for l in $loads; do measure "$way" "$round" "$gen" "$n" "$l"; done
				teardown "$way"
			done
		done
	done
done

node - "$results" <<'JS'
// Columns: way round generator devices load dora_per_s do_sent do_rcvd do_drops ra_sent ra_rcvd ra_drops
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(l => l.split('\t'));
const median = a => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (d, n) => (Number(n) ? (100 * Number(d)) / Number(n) : 0);
const ways = ['usbvnet', 'dnsmasq'];
const uniq = (rs, i) => [...new Set(rs.map(x => Number(x[i])))].sort((a, b) => a - b);
// Each round's best completed rate over the sweep (every device count and
// load), then the median of those.
const bestOf = (rs, w, keep) => {
	const rounds = [...new Set(rs.filter(x => x[0] === w).map(x => x[1]))];
	return median(rounds.map(rd => Math.max(...rs.filter(x => x[0] === w && x[1] === rd && keep(x)).map(x => Number(x[5])))));
};
const ratios = [];
for (const gen of [...new Set(rows.map(x => x[2]))]) {
	const rs = rows.filter(x => x[2] === gen);
	console.log(`\n${gen}: median completed DORA/s by devices and offered rate (DISCOVER drops %, REQUEST drops %)`);
	console.log('devices offered'.padEnd(16), ...ways.map(w => w.padStart(26)));
	for (const n of uniq(rs, 3))
		for (const o of uniq(rs, 4))
			console.log(`${n}`.padEnd(8) + `${o}`.padEnd(8), ...ways.map(w => {
				const r = rs.filter(x => x[0] === w && Number(x[3]) === n && Number(x[4]) === o);
				if (!r.length) return 'n/a'.padStart(26);
				const v = `${median(r.map(x => Number(x[5]))).toFixed(1)} (${median(r.map(x => pct(x[8], x[6]))).toFixed(0)}%, ${median(r.map(x => pct(x[11], x[9]))).toFixed(0)}%)`;
				return v.padStart(26);
			}));
	for (const n of uniq(rs, 3))
		console.log(`best with ${n} device(s):`, ways.map(w => `${w} ${bestOf(rs, w, x => Number(x[3]) === n).toFixed(1)}`).join(', '));
	const best = Object.fromEntries(ways.map(w => [w, bestOf(rs, w, () => true)]));
	const ratio = best.dnsmasq > 0 ? (best.usbvnet / best.dnsmasq).toFixed(2) : 'n/a';
	console.log(`${gen}: best completed DORA/s (median over rounds):`, ways.map(w => `${w} ${best[w].toFixed(1)}`).join(', '));
	ratios.push(`${gen} ${ratio}`);
}
console.log('\nratio usbvnet/dnsmasq:', ratios.join(', '), '(target >= 10)');
JS

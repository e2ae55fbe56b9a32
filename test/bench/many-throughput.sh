# vm-timeout: 1800
# Guest side of `make bench`: 32 ECM devices at once, iperf3 TCP and UDP from
# the host to every device together, two ways in the same guest, interleaved
# round by round:
#   direct   each device on its own host-side netdev, its own subnet
#            10.77.I.0/24 (no module loaded)
#   usbvnet  all of them in slots of usbvnet0, one subnet 192.168.77.0/24
# The figure is the aggregate: the sum of what the devices received in one
# run with all flows at once. Prints medians and the ratio usbvnet/direct.
#
#   BENCH_DEVICES=32   how many devices (1..32)
#   BENCH_ROUNDS=3     rounds of both ways
#   BENCH_SECS=5       seconds of each iperf3 run
. "$VM_LIB/lab.sh"
trap lab_cleanup EXIT
N=${BENCH_DEVICES:-32}
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECS:-5}
((N >= 1 && N <= 32)) || { echo "BENCH_DEVICES must be 1..32"; exit 1; }
results=$USBVNET_OUT/bench.tsv
runs=$USBVNET_OUT/iperf
mkdir -p "$runs"
: >"$results"

lab_init "$N"
for i in $(seq 0 $((N - 1))); do
	gadget_create "d$i" ecm serial="M$i" >/dev/null
done
start=$SECONDS
for i in $(seq 0 $((N - 1))); do
	gadget_plug "d$i" >/dev/null
done
for i in $(seq 0 $((N - 1))); do
	gadget_wait_host "d$i" 30 >/dev/null || { echo "d$i did not enumerate"; exit 1; }
done
specs=()
for i in $(seq 0 $((N - 1))); do
	specs+=("d$i:10.77.$i.2/24")
done
gadget_netns_many "${specs[@]}" >/dev/null || exit 1
hosts=() # the host-side netdev of each device
for i in $(seq 0 $((N - 1))); do
	dev "d$i" ip addr add "192.168.77.$((10 + i))/24" dev "$(gadget_dev_if "d$i")"
	dev "d$i" iperf3 -s -D >/dev/null 2>&1
	hosts+=("$(gadget_host_if "d$i")")
done
echo "$N devices ready in $((SECONDS - start)) s"

addr() { # WAY I: the address of device I
	if [ "$1" = direct ]; then echo "10.77.$2.2"; else echo "192.168.77.$((10 + $2))"; fi
}

reach_all() { # WAY: every device answers a ping
	local i
	for i in $(seq 0 $((N - 1))); do
		wait_for 15 ping -c 1 -W 1 "$(addr "$1" "$i")" || { echo "d$i unreachable ($1)"; return 1; }
	done
}

setup() {
	local i batch=
	case $1 in
	direct)
		for i in $(seq 0 $((N - 1))); do
			batch+="link set ${hosts[i]} up"$'\n'"addr replace 10.77.$i.1/24 dev ${hosts[i]}"$'\n'
		done
		ip -b - <<<"$batch" || return 1
		;;
	usbvnet)
		# Devices plugged before the module loads are attached at load.
		insmod "$USBVNET_KO" || return 1
		wait_for 20 test "$(ls -d /sys/class/net/usbvnet0/lower_* 2>/dev/null | wc -l)" = "$N" ||
			{ echo "not all $N devices attached"; return 1; }
		ip link set usbvnet0 up
		ip addr replace 192.168.77.1/24 dev usbvnet0
		;;
	esac
	for i in $(seq 0 $((N - 1))); do
		gadget_wait_carrier "d$i" >/dev/null || true
	done
	reach_all "$1"
}

teardown() {
	local i batch=
	case $1 in
	direct)
		for i in $(seq 0 $((N - 1))); do
			batch+="addr flush dev ${hosts[i]}"$'\n'
		done
		ip -b - <<<"$batch"
		;;
	usbvnet) rmmod usbvnet ;;
	esac
	ip neigh flush all
}

# All N clients at once; prints the sum of what the devices received, Mbit/s,
# and how many clients failed.
aggregate() { # WAY PROTO
	local way=$1 proto=$2 i opts=()
	if [ "$proto" = udp ]; then opts=(-u -b 0 -l 1400); fi
	rm -f "$runs"/*.json
	for i in $(seq 0 $((N - 1))); do
		iperf3 -c "$(addr "$way" "$i")" -t "$SECS" "${opts[@]}" -J >"$runs/$i.json" 2>/dev/null &
	done
	wait
	# A client that failed leaves no figure: it counts as 0 and as failed.
	jq -rs --arg proto "$proto" --argjson n "$N" '
		def rx: if $proto == "tcp" then .end.sum_received.bits_per_second
			else .end.sum | if .bits_per_second == null then null
				else .bits_per_second * (1 - (.lost_percent // 0) / 100) end end;
		[.[] | rx | select(. != null)] as $ok
		| "\((($ok | add // 0) / 1e5 | round) / 10)\t\($n - ($ok | length))"
	' "$runs"/*.json 2>/dev/null || printf '0\t%s\n' "$N"
}

printf 'way\tround\ttcp_mbps\tfailed\tudp_mbps\tfailed\n'
for round in $(seq 1 "$ROUNDS"); do
	for way in direct usbvnet; do
		setup "$way" || { echo "setup $way failed"; exit 1; }
		tcp=$(aggregate "$way" tcp)
		udp=$(aggregate "$way" udp)
		printf '%s\t%s\t%s\t%s\n' "$way" "$round" "$tcp" "$udp" | tee -a "$results"
		teardown "$way"
	done
done

node - "$results" "$N" <<'JS'
const [file, n] = process.argv.slice(2);
const rows = require('fs').readFileSync(file, 'utf8').trim().split('\n').map(l => l.split('\t'));
const median = a => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const med = {};
for (const way of ['direct', 'usbvnet']) {
	const r = rows.filter(x => x[0] === way);
	med[way] = [2, 4].map(i => median(r.map(x => Number(x[i]))));
}
const f = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
console.log(`\n${n} devices at once, aggregate (medians)   tcp Mbit/s  udp Mbit/s`);
for (const w of Object.keys(med)) console.log(`${w.padEnd(40)}`, ...med[w].map(v => String(v).padStart(10)));
console.log(`${'ratio usbvnet/direct'.padEnd(40)}`, f(med.usbvnet[0], med.direct[0]).padStart(10), f(med.usbvnet[1], med.direct[1]).padStart(10));
JS

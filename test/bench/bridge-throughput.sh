# Guest side of `make bench`: iperf3 and ping between the host and one ECM
# device, three ways in the same guest, interleaved round by round:
#   direct   the device's own netdev carries the host address (no module)
#   bridge   a Linux bridge with that netdev as its port
#   usbvnet  usbvnet0 with the device attached in slot 0
# Prints medians and the ratios usbvnet/direct and usbvnet/bridge.
. "$VM_LIB/lab.sh"
trap lab_cleanup EXIT
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECS:-4}
lab_init 1
gadget_add e1 ecm ip=192.168.77.10/24 >/dev/null
lower=$(gadget_host_if e1)
modprobe bridge
results=$USBVNET_OUT/bench.tsv
: >"$results"

host_if=
setup() {
	case $1 in
	direct)
		host_if=$lower
		ip addr replace 192.168.77.1/24 dev "$lower"
		;;
	bridge)
		ip link add br0 type bridge
		ip link set br0 up
		ip link set "$lower" master br0
		ip addr replace 192.168.77.1/24 dev br0
		host_if=br0
		;;
	usbvnet)
		# Devices plugged before the module loads are attached at load.
		insmod "$USBVNET_KO"
		wait_for 10 test -e "/sys/class/net/usbvnet0/lower_$lower"
		ip link set usbvnet0 up
		ip addr replace 192.168.77.1/24 dev usbvnet0
		host_if=usbvnet0
		;;
	esac
	ip link set "$lower" up
	gadget_wait_carrier e1 >/dev/null
	wait_for 10 ping -c 1 -W 1 192.168.77.10
}

teardown() {
	case $1 in
	direct) ip addr flush dev "$lower" ;;
	bridge) ip link del br0 ;;
	usbvnet) rmmod usbvnet ;;
	esac
	ip neigh flush all
}

measure() { # WAY ROUND
	local way=$1 tcp udp rtt
	dev e1 pkill iperf3 2>/dev/null
	dev e1 iperf3 -s -D >/dev/null 2>&1
	sleep 0.5
	tcp=$(iperf3 -c 192.168.77.10 -t "$SECS" -J 2>/dev/null |
		node -e 'const r=JSON.parse(require("fs").readFileSync(0));console.log((r.end.sum_received.bits_per_second/1e6).toFixed(1))')
	udp=$(iperf3 -c 192.168.77.10 -u -b 0 -l 1400 -t "$SECS" -J 2>/dev/null |
		node -e 'const r=JSON.parse(require("fs").readFileSync(0));const s=r.end.sum;console.log((s.bits_per_second*(1-s.lost_percent/100)/1e6).toFixed(1))')
	rtt=$(ping -c 20 -i 0.05 -q 192.168.77.10 | sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p')
	printf '%s\t%s\t%s\t%s\t%s\n' "$way" "$2" "${tcp:-0}" "${udp:-0}" "${rtt:-0}" | tee -a "$results"
}

printf 'way\tround\ttcp_mbps\tudp_mbps\trtt_ms\n'
for round in $(seq 1 "$ROUNDS"); do
	for way in direct bridge usbvnet; do
		setup "$way" || { echo "setup $way failed"; exit 1; }
		measure "$way" "$round"
		teardown "$way"
	done
done

node - "$results" <<'JS'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(l => l.split('\t'));
const median = a => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const med = {};
for (const way of ['direct', 'bridge', 'usbvnet']) {
	const r = rows.filter(x => x[0] === way);
	med[way] = [2, 3, 4].map(i => median(r.map(x => Number(x[i]))));
}
const f = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
console.log('\nmedians          tcp Mbit/s  udp Mbit/s  rtt ms');
for (const w of Object.keys(med)) console.log(w.padEnd(16), ...med[w].map(v => String(v).padStart(10)));
console.log('\nratio            tcp         udp         rtt (lower is better)');
console.log('usbvnet/direct  ', f(med.usbvnet[0], med.direct[0]).padStart(10), f(med.usbvnet[1], med.direct[1]).padStart(10), f(med.usbvnet[2], med.direct[2]).padStart(10));
console.log('usbvnet/bridge  ', f(med.usbvnet[0], med.bridge[0]).padStart(10), f(med.usbvnet[1], med.bridge[1]).padStart(10), f(med.usbvnet[2], med.bridge[2]).padStart(10));
JS

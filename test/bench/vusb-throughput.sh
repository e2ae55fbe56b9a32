# Guest side of `make bench` (or `bash test/bench/run.sh test/bench/vusb-throughput.sh`):
# iperf3 TCP both ways and ping between the host and a peer in a network
# namespace, three ways in the same guest, interleaved round by round:
#   vusb    an emulated ECM device (`usbvnet vusb serve`, TAP backend in netns
#           far) attached through vhci_hcd over loopback
#   gadget  a dummy_hcd gadget ECM device (the kernel's f_ecm), peer in its netns
#   veth    a veth pair, one end in a netns: the cost of the namespaces alone
# Prints medians and the ratios vusb/gadget and vusb/veth (never pass/fail).
. "$VM_LIB/lab.sh"
. "$VM_LIB/cli-runtime.sh"
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECS:-4}
# Unmeasured traffic through the emulated device first: under emulation V8
# takes tens of seconds to optimise the server's URB path, and cold rounds
# measured mostly that (three rounds went 3, 6, 13 Mbit/s).
WARMUP=${BENCH_WARMUP:-10}
V=$USBVNET_SRC/test/vm/vusb
VHCI=/sys/devices/platform/vhci_hcd.0
work=$(mktemp -d)
serve_pid=
cleanup() {
	[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null
	local p
	for p in $(cat "$VHCI"/status* 2>/dev/null | awk '$1 ~ /^(hs|ss)$/ && $3 != "004" { print $2 + 0 }'); do
		echo "$p" >"$VHCI/detach" 2>/dev/null
	done
	[ -z "$serve_pid" ] || wait "$serve_pid" 2>/dev/null
	ip netns pids far 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids vethns 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del far 2>/dev/null
	ip netns del vethns 2>/dev/null
	lab_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
results=$USBVNET_OUT/bench.tsv
: >"$results"

cli_runtime_unpack
modprobe -a vhci-hcd cdc_ether tun veth

# ---- vusb: ECM on a TAP in netns far -----------------------------------------
ip netns add far
ip -n far link set lo up
node "$CLI_ROOT/cli/bin/run.js" vusb serve "$V/tap-ecm.json" --control "$work/vusb.sock" >"$work/serve.log" 2>&1 &
serve_pid=$!
wait_for 90 test -S "$work/vusb.sock" || { echo "vusb serve did not start"; cat "$work/serve.log"; exit 1; }
printf 'link set vtap0 up\naddr add 192.168.80.2/24 dev vtap0\n' | ip -n far -b -
node "$CLI_ROOT/cli/bin/run.js" vusb attach 1-1 >/dev/null || { echo "vusb attach failed"; exit 1; }
vusb_if=
for _ in $(seq 100); do
	for d in /sys/bus/usb/devices/*:1.0/net/*; do
		[ -e "$d" ] && [ "$(cat "$d/address")" = 02:76:00:00:10:01 ] && vusb_if=${d##*/}
	done
	[ -n "$vusb_if" ] && break
	nap 0.2
done
[ -n "$vusb_if" ] || { echo "no netdev for the emulated ECM"; exit 1; }
printf 'link set %s up\naddr add 192.168.80.1/24 dev %s\n' "$vusb_if" "$vusb_if" | ip -b -

# ---- gadget: f_ecm through dummy_hcd -----------------------------------------
lab_init 1
gadget_add e1 ecm ip=192.168.77.10/24 >/dev/null
gadget_host_ip e1 192.168.77.1/24
gadget_wait_carrier e1 >/dev/null

# ---- veth ------------------------------------------------------------------
ip netns add vethns
ip link add veth0 type veth peer name veth1 netns vethns
printf 'link set lo up\nlink set veth1 up\naddr add 192.168.81.2/24 dev veth1\n' | ip -n vethns -b -
printf 'link set veth0 up\naddr add 192.168.81.1/24 dev veth0\n' | ip -b -

declare -A peer=([vusb]=192.168.80.2 [gadget]=192.168.77.10 [veth]=192.168.81.2)
declare -A ns=([vusb]=far [gadget]=dev-e1 [veth]=vethns)
for way in vusb gadget veth; do
	ip netns exec "${ns[$way]}" iperf3 -s -D >/dev/null 2>&1
	wait_for 20 ping -c 1 -W 1 "${peer[$way]}" || echo "$way: no answer from ${peer[$way]}"
done

mbps() { node -e 'const r=JSON.parse(require("fs").readFileSync(0));console.log((r.end.sum_received.bits_per_second/1e6).toFixed(1))' 2>/dev/null; }
measure() { # WAY ROUND
	local way=$1 p=${peer[$1]} up down rtt
	up=$(iperf3 -c "$p" -t "$SECS" -J 2>/dev/null | mbps)
	down=$(iperf3 -c "$p" -t "$SECS" -R -J 2>/dev/null | mbps)
	rtt=$(ping -c 20 -i 0.05 -q "$p" | sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p')
	printf '%s\t%s\t%s\t%s\t%s\n' "$way" "$2" "${up:-0}" "${down:-0}" "${rtt:-0}" | tee -a "$results"
}

if ((WARMUP > 0)); then
	iperf3 -c "${peer[vusb]}" -t "$WARMUP" >/dev/null 2>&1
	iperf3 -c "${peer[vusb]}" -t "$WARMUP" -R >/dev/null 2>&1
fi
printf 'way\tround\tto_peer_mbps\tfrom_peer_mbps\trtt_ms\n'
for round in $(seq 1 "$ROUNDS"); do
	for way in vusb gadget veth; do measure "$way" "$round"; done
done
echo "vusb TAP counters: $(node "$CLI_ROOT/cli/bin/run.js" vusb list --control "$work/vusb.sock" --json 2>/dev/null | jq -c '.devices[0].functions[0].tap.stats')"
echo "node server CPU (utime+stime, s): $(awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$serve_pid/stat")"

node - "$results" <<'JS'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(l => l.split('\t'));
const median = a => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const med = {};
for (const way of ['vusb', 'gadget', 'veth']) {
	const r = rows.filter(x => x[0] === way);
	med[way] = [2, 3, 4].map(i => median(r.map(x => Number(x[i]))));
}
const f = (a, b) => (b > 0 ? (a / b).toFixed(3) : 'n/a');
console.log('\nmedians        to peer Mbit/s  from peer Mbit/s  rtt ms');
for (const w of Object.keys(med)) console.log(w.padEnd(14), ...med[w].map((v, i) => String(v).padStart(i ? 17 : 15)));
console.log('\nratio          to peer         from peer         rtt (lower is better)');
for (const b of ['gadget', 'veth']) {
	console.log(`vusb/${b}`.padEnd(14), f(med.vusb[0], med[b][0]).padStart(15), f(med.vusb[1], med[b][1]).padStart(17), f(med.vusb[2], med[b][2]).padStart(17));
}
JS

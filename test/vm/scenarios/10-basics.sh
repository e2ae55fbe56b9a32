# usbvnet0 on its own, then with one ECM device.
#
#   host netns                               dev-e1 netns
#   ┌────────────────────────────┐          ┌──────────────────┐
#   │ usbvnet0 192.168.77.1/24   │          │ usbN (gadget)    │
#   │   └─ slot 0: cdc_ether ════╪══ USB ═══╪═ 192.168.77.10/24│
#   └────────────────────────────┘ dummy_hcd└──────────────────┘
. "$VM_LIB/lab.sh"
trap lab_cleanup EXIT
lab_init 2
ctl=$USBVNET_SRC/build/vm/tools/ioctl-test
# ip(8) shows and sets the kind's options through our plugin (make iproute2-plugin).
export IP_LIB_DIR=$USBVNET_SRC/build/iproute2
details() { ip -d link show "$1" | grep -o 'usbvnet mode .*used 0x[0-9a-f]*'; }
info_data() { ip -j -d link show "$1" | jq -c '.[0].linkinfo.info_data'; }
ip_refused() { # ip ARGS... fails and the plugin says why
	local err
	err=$(ip "$@" 2>&1) && return 1
	echo "$err"
	grep -q '^Error: usbvnet: ' <<<"$err"
}

# The documented rule (core/uvn_bridge.h): FNV-1a 64 over "usbvnet\0" +
# DMI product UUID + "\0" + interface name; first six bytes, locally
# administered unicast. Bash arithmetic wraps at 64 bits like the C code.
derived_mac() {
	local input h=-3750763034362895579 i byte # 0xcbf29ce484222325
	input=$(printf 'usbvnet\0%s\0%s' "$(cat /sys/class/dmi/id/product_uuid)" "$1" | od -An -v -tu1)
	for byte in $input; do
		h=$(( (h ^ byte) * 1099511628211 ))
	done
	printf '%02x:%02x:%02x:%02x:%02x:%02x' $(( ((h >> 56) & 0xfc) | 2 )) \
		$(( (h >> 48) & 255 )) $(( (h >> 40) & 255 )) $(( (h >> 32) & 255 )) \
		$(( (h >> 24) & 255 )) $(( (h >> 16) & 255 ))
}

# 1. After load: usbvnet0 exists, carrier off, MAC stable across reloads.
usbvnet_load
check "usbvnet0 exists after load" ip link show usbvnet0
check "usbvnet0 kind is usbvnet" bash -c "ip -d link show usbvnet0 | grep -qw usbvnet"
check "no carrier with no device" test "$(cat /sys/class/net/usbvnet0/carrier 2>/dev/null || echo 0)" = 0
mac1=$(cat /sys/class/net/usbvnet0/address)
check "MAC is locally administered unicast" bash -c "[[ \$(( 0x${mac1:0:2} & 3 )) == 2 ]]"
check "MAC follows the documented rule ($(derived_mac usbvnet0))" test "$mac1" = "$(derived_mac usbvnet0)"
check "control device exists" test -c /dev/usbvnet
usbvnet_unload
usbvnet_load
check "MAC identical after reload" test "$(cat /sys/class/net/usbvnet0/address)" = "$mac1"
usbvnet_unload
usbvnet_load mac=02:12:34:56:78:9a
check "mac= parameter sets the MAC" test "$(cat /sys/class/net/usbvnet0/address)" = 02:12:34:56:78:9a
usbvnet_unload
check_not "mac= with a multicast address is refused" insmod "$USBVNET_KO" mac=01:00:5e:00:00:01
check_not "nothing left behind by the refused load" ip link show usbvnet0
usbvnet_load
check "ip link add makes another instance" ip link add uv1 type usbvnet
check "its MAC follows the rule with its own name" test "$(cat /sys/class/net/uv1/address)" = "$(derived_mac uv1)"
check "ip link add honours an address" ip link add uv2 address 02:00:00:00:00:42 type usbvnet
check "the given address is used" test "$(cat /sys/class/net/uv2/address)" = 02:00:00:00:00:42
check_not "a multicast address is refused" ip link add uv3 address 01:00:00:00:00:42 type usbvnet

# ip -d shows the kind's options; ip link add/set change the mode.
check "ip -d: mode, slot count and used slots" test "$(details usbvnet0)" = "usbvnet mode bridge slots 32 used 0x0"
check "ip -j -d: the same as JSON" test "$(info_data usbvnet0)" = '{"mode":"bridge","slots":32,"used":"0x0"}'
check "ip link add ... mode private" ip link add uv4 type usbvnet mode private
check "the new instance is private" test "$(details uv4)" = "usbvnet mode private slots 32 used 0x0"
check "ip link set ... mode bridge" ip link set uv4 type usbvnet mode bridge
check "the instance is in bridge mode again" test "$(details uv4)" = "usbvnet mode bridge slots 32 used 0x0"
check "ip link set usbvnet0 ... mode private" ip link set usbvnet0 type usbvnet mode private
check "the control interface sees the mode ip set" test "$("$ctl" info | sed -n 's/^mode=//p')" = 1
pp ip link set usbvnet0 type usbvnet mode bridge
for bad in "mode bogus" "mode" "mode private mode bridge" "slots 4" "used 0x1" "frobnicate"; do
	# shellcheck disable=SC2086 # one word per option
	check "ip link set usbvnet0 type usbvnet $bad: refused, saying why" ip_refused link set usbvnet0 type usbvnet $bad
done
check_not "ip link add with a bad mode is refused" ip link add uv5 type usbvnet mode nat
check_not "and creates nothing" ip link show uv5
check "usbvnet0 unchanged after the refused options" test "$(details usbvnet0)" = "usbvnet mode bridge slots 32 used 0x0"
check "ip link help usbvnet" bash -c "ip link help usbvnet 2>&1 | grep -q 'MODE := { bridge | private }'"
check "extra instances are deleted" bash -c "ip link del uv1 && ip link del uv2 && ip link del uv4"
pp ip link set usbvnet0 up
pp ip addr add 192.168.77.1/24 dev usbvnet0

# 2. One ECM device: slot 0, carrier on, ping both ways.
gadget_create e1 ecm serial=E1
gadget_plug e1
lower=$(gadget_wait_host e1)
check "ECM device bound by cdc_ether" test "$(gadget_host_driver e1)" = cdc_ether
check_wait "ECM device attached to usbvnet0" 5 test -e /sys/class/net/usbvnet0/lower_$lower
check_wait "carrier on with one device" 5 test "$(cat /sys/class/net/usbvnet0/carrier)" = 1
gadget_netns e1 192.168.77.10/24
pp ip -d link show usbvnet0
pp ip link show "$lower"
check "ip -d: slot 0 in use" test "$(details usbvnet0)" = "usbvnet mode bridge slots 32 used 0x1"
check "ip -j -d: slot 0 in use" test "$(info_data usbvnet0 | jq -r .used)" = 0x1
check_wait "host pings the device over usbvnet0" 10 ping -c 1 -W 1 -I usbvnet0 192.168.77.10
check "device pings the host" dev e1 ping -c 3 -W 2 192.168.77.1
check "device sees the host's usbvnet0 MAC" bash -c "ip netns exec dev-e1 ip neigh show 192.168.77.1 | grep -qi $(cat /sys/class/net/usbvnet0/address)"
pp dmesg | grep usbvnet | tail -5

gadget_unplug e1
gadget_wait_gone e1
check_wait "carrier off after unplug" 5 test "$(cat /sys/class/net/usbvnet0/carrier)" = 0
check "ip -d: no slot in use after unplug" test "$(details usbvnet0)" = "usbvnet mode bridge slots 32 used 0x0"
usbvnet_unload
check "module unloads" bash -c "! lsmod | grep -qw usbvnet"

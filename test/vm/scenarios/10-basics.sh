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
check "extra instances are deleted" bash -c "ip link del uv1 && ip link del uv2"
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
check_wait "host pings the device over usbvnet0" 10 ping -c 1 -W 1 -I usbvnet0 192.168.77.10
check "device pings the host" dev e1 ping -c 3 -W 2 192.168.77.1
check "device sees the host's usbvnet0 MAC" bash -c "ip netns exec dev-e1 ip neigh show 192.168.77.1 | grep -qi $(cat /sys/class/net/usbvnet0/address)"
pp dmesg | grep usbvnet | tail -5

gadget_unplug e1
gadget_wait_gone e1
check_wait "carrier off after unplug" 5 test "$(cat /sys/class/net/usbvnet0/carrier)" = 0
usbvnet_unload
check "module unloads" bash -c "! lsmod | grep -qw usbvnet"

# vm-timeout: 600
# 32 devices fill every slot; a 33rd stays an ordinary interface; then all go.
#
#   usbvnet0 192.168.77.1/24
#     32 slots     gadgets d0..d30 (one ECM function each) and gadget d31
#                  with two ECM functions (d31, d32): 33 netdevs
#     refused      whichever of the 33 registers last (enumeration order
#                  varies): it keeps its own netdev, 192.168.78.1/24
. "$VM_LIB/lab.sh"
trap lab_cleanup EXIT
lab_init 32
ctl=$USBVNET_SRC/build/vm/tools/ioctl-test
info() { "$ctl" info | sed -n "s/^$1=//p"; }

usbvnet_load
ip link set usbvnet0 up
ip addr add 192.168.77.1/24 dev usbvnet0

for i in $(seq 0 31); do
	gadget_create "d$i" ecm serial="D$i" >/dev/null
done
# One USB device with two network functions: the 33rd netdev.
gadget_create d32 ecm with=d31 >/dev/null
start=$SECONDS
for i in $(seq 0 31); do
	gadget_plug "d$i" >/dev/null
done
for i in $(seq 0 32); do
	gadget_wait_host "d$i" 30 >/dev/null || echo "d$i did not enumerate"
done
echo "33 netdevs enumerated in $((SECONDS - start)) s"

check_wait "all 32 slots in use" 20 test "$(info slots_used)" = 4294967295
check "the 33rd device is counted as refused" test "$(info refused_full)" = 1
attached=() refused=()
for i in $(seq 0 32); do
	if ip -o link show "$(gadget_host_if "d$i")" | grep -q 'master usbvnet0'; then
		attached+=("d$i")
	else
		refused+=("d$i")
	fi
done
check "exactly one device stays an ordinary interface (${refused[*]})" test "${#refused[@]}" = 1
odd=${refused[0]:-d32}
odd_if=$(gadget_host_if "$odd")
check "the kernel log names it and why" bash -c "dmesg | grep -q '$odd_if .*not attached: all 32 slots are in use'"

n=0
for d in "${attached[@]}"; do
	gadget_netns "$d" "192.168.77.$((10 + n))/24" >/dev/null
	n=$((n + 1))
done
unreachable=
for n in $(seq 0 $((${#attached[@]} - 1))); do
	wait_for 10 ping -c 1 -W 1 "192.168.77.$((10 + n))" || unreachable+=" ${attached[n]}"
done
check "all 32 devices reachable over usbvnet0 (unreachable:${unreachable:- none})" test -z "$unreachable"
check "the first device reaches the last" dev "${attached[0]}" ping -c 1 -W 2 192.168.77.41

# The refused device works on its own, undisturbed and undisturbing.
gadget_netns "$odd" 192.168.78.2/24 >/dev/null
gadget_host_ip "$odd" 192.168.78.1/24 >/dev/null
gadget_wait_carrier "$odd" >/dev/null
check_wait "the refused device works as an ordinary interface" 10 ping -c 1 -W 1 192.168.78.2
check "and slot 5 still answers" ping -c 1 -W 2 192.168.77.15

# 7. Unplug all: carrier off, every slot free.
for i in $(seq 0 31); do
	gadget_unplug "d$i" >/dev/null
done
check_wait "all slots free after unplugging all" 30 test "$(info slots_used)" = 0
check "carrier off with no device" test "$(cat /sys/class/net/usbvnet0/carrier)" = 0
check "module unloads" usbvnet_unload

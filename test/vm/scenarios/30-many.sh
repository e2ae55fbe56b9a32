# vm-timeout: 600
# 32 devices fill every slot; a 33rd stays an ordinary interface; then all go.
#
#   usbvnet0 192.168.77.1/24
#     slot 0..30   one ECM gadget each     (dev-d0 .. dev-d30: 192.168.77.10+N)
#     slot 31      gadget d31, first ECM function  (dev-d31: 192.168.77.41)
#     refused      gadget d31, second ECM function (d32): no slot left
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
d32=$(gadget_host_if d32)
check "the 33rd device stays an ordinary interface" bash -c "! ip link show $d32 | grep -q 'master usbvnet0'"
check "the kernel log names the 33rd device and why" bash -c "dmesg | grep -q '$d32 .*not attached: all 32 slots are in use'"

for i in $(seq 0 31); do
	gadget_netns "d$i" "192.168.77.$((10 + i))/24" >/dev/null
done
unreachable=
for i in $(seq 0 31); do
	wait_for 10 ping -c 1 -W 1 "192.168.77.$((10 + i))" || unreachable+=" d$i"
done
check "all 32 devices reachable over usbvnet0 (unreachable:${unreachable:- none})" test -z "$unreachable"
check "device in slot 0 reaches device in slot 31" dev d0 ping -c 1 -W 2 192.168.77.41

# The refused device works on its own, undisturbed and undisturbing.
gadget_netns d32 192.168.78.2/24 >/dev/null
gadget_host_ip d32 192.168.78.1/24 >/dev/null
check_wait "the 33rd device works as an ordinary interface" 10 ping -c 1 -W 1 192.168.78.2
check "and slot 5 still answers" ping -c 1 -W 2 192.168.77.15

# 7. Unplug all: carrier off, every slot free.
for i in $(seq 0 31); do
	gadget_unplug "d$i" >/dev/null
done
check_wait "all slots free after unplugging all" 30 test "$(info slots_used)" = 0
check "carrier off with no device" test "$(cat /sys/class/net/usbvnet0/carrier)" = 0
check "module unloads" usbvnet_unload

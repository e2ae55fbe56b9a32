# USB device helpers for the vusb scenarios: vhci_hcd ports and sysfs lookups.
# shellcheck shell=bash
VHCI=/sys/devices/platform/vhci_hcd.0

# vhci ports in use ("sta" other than 004, VDEV_ST_NULL).
used_ports() { cat "$VHCI"/status* 2>/dev/null | awk '$1 ~ /^(hs|ss)$/ && $3 != "004" { print $2 + 0 }'; }
no_ports_used() { [ -z "$(used_ports)" ]; }
# The local busid of the USB device VID:PID (hex without 0x), if present.
usb_of() {
	local d
	for d in /sys/bus/usb/devices/*; do
		[ -f "$d/idVendor" ] && [ "$(<"$d/idVendor"):$(<"$d/idProduct")" = "$1" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}
gone() { ! usb_of "$1" >/dev/null; }
# The driver, netdev and tty of a USB device or interface (BUSID[:C.I]).
driver_of() { local l; l=$(readlink "/sys/bus/usb/devices/$1/driver") && echo "${l##*/}"; }
netdev_of() { local n=(/sys/bus/usb/devices/"$1"/net/*); [ -e "${n[0]}" ] && echo "${n[0]##*/}"; }
tty_of() { local t=(/sys/bus/usb/devices/"$1"/tty/*); [ -e "${t[0]}" ] && echo "${t[0]##*/}"; }

# The far side of test/vm/vusb/web-phone.json: what a phone runs when it
# tethers, in network namespace "phone" on the TAP "phone0" that
# `usbvnet vusb serve web-phone.json` creates there. The phone has
# 192.168.42.129 (Android's USB tethering address), answers DHCP on the link
# with busybox udhcpd (router and DNS: itself) and serves a web page on port
# 80 with busybox httpd; cgi-bin/sha256 answers the SHA-256 of what is
# POSTed to it (for upload checks). Sourced by the demo and 65-vusb-tap.
#
#   phone_netns               ip netns add phone (before vusb serve)
#   phone_start DIR           once serve has made phone0: address, udhcpd, httpd
#   phone_stop                stop both servers, delete the namespace
PHONE_NS=phone
PHONE_IF=phone0
PHONE_IP=192.168.42.129
PHONE_PAGE="Hello from the vusb web phone: you reached it over emulated USB, with no configuration."
_phone_pids=

phone_netns() {
	[ -e "/run/netns/$PHONE_NS" ] || ip netns add "$PHONE_NS"
	ip -n "$PHONE_NS" link set lo up
}

phone_start() {
	local dir=$1
	mkdir -p "$dir/www/cgi-bin"
	printf '%s\n' "$PHONE_PAGE" >"$dir/www/index.html"
	head -c 1048576 /dev/urandom >"$dir/www/blob"
	cat >"$dir/www/cgi-bin/sha256" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
head -c "${CONTENT_LENGTH:-0}" | sha256sum | cut -d' ' -f1
CGI
	chmod +x "$dir/www/cgi-bin/sha256"
	cat >"$dir/udhcpd.conf" <<CONF
interface $PHONE_IF
start 192.168.42.10
end 192.168.42.50
max_leases 41
lease_file $dir/udhcpd.leases
option subnet 255.255.255.0
option router $PHONE_IP
option dns $PHONE_IP
option lease 3600
CONF
	: >"$dir/udhcpd.leases"
	printf 'link set %s up\naddr replace %s/24 dev %s\n' "$PHONE_IF" "$PHONE_IP" "$PHONE_IF" | ip -n "$PHONE_NS" -b - || return 1
	# -a 100: the ARP probe before each offer waits 2 s by default.
	ip netns exec "$PHONE_NS" busybox udhcpd -f -a 100 "$dir/udhcpd.conf" >"$dir/udhcpd.log" 2>&1 &
	_phone_pids+=" $!"
	ip netns exec "$PHONE_NS" busybox httpd -f -p "$PHONE_IP:80" -h "$dir/www" >"$dir/httpd.log" 2>&1 &
	_phone_pids+=" $!"
}

phone_stop() {
	local p
	for p in $_phone_pids; do kill "$p" 2>/dev/null; done
	for p in $_phone_pids; do wait "$p" 2>/dev/null; done
	_phone_pids=
	ip netns del "$PHONE_NS" 2>/dev/null || true
}

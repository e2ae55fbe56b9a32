#!/usr/bin/env bash
# Installs what building and testing usbvnet needs on Debian 12, idempotently:
# apt packages that are missing, then npm packages when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(
	build-essential make gcc clang libfuzzer-14-dev libclang-rt-14-dev sparse kmod cpio dkms
	linux-headers-amd64 linux-image-amd64
	qemu-system-x86 busybox-static udhcpc
	iproute2 iputils-ping iperf3 dnsmasq-base kea-admin dhcpcd-base
	usbip jq nodejs npm
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	# nodejs/npm may come from elsewhere than Debian; only ask apt for them
	# when no node is on the PATH at all.
	filtered=()
	for p in "${missing[@]}"; do
		case $p in nodejs|npm) command -v "${p/nodejs/node}" >/dev/null && continue ;; esac
		filtered+=("$p")
	done
	if ((${#filtered[@]})); then
		echo "deps: installing ${filtered[*]}"
		apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${filtered[@]}"
	fi
fi

# npm: reinstall only when package-lock.json is newer than the last install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

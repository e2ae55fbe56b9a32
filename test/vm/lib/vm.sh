# Host side of the QEMU lab, sourced by test/vm/run-scenarios.sh and
# test/vm/demo.sh. Boots Debian's installed kernel under TCG with a tiny
# busybox initramfs that chroots into the host's root (shared read-only over
# 9p), so the guest runs the host's bash, iproute2, node and usbip.
#
#   vm_setup                     find the repo, KVER, the kernel; build/vm/
#   vm_initramfs                 build (or reuse) the cached initramfs
#   vm_run NAME COMMAND          boot, run COMMAND (bash source) in the guest;
#                                returns its exit status, 124 on timeout and
#                                125 when the guest died without one
#
# After vm_run, $VM_RUN_DIR (build/vm/runs/NAME) holds console.log (serial console, every kernel
# message), output.log (the command's output) and rc. Knobs, from the
# environment: VM_TIMEOUT (s, default 300), VM_MEM (default 1536M), VM_SMP
# (default 2), VM_CPU (default max), VM_UUID (the DMI product UUID, fixed so
# derived MACs are stable), VM_LOGLEVEL (console, default 7), VM_LIVE=1
# shows the console on the terminal while it runs.

VM_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

vm_log() { echo "vm: $*" >&2; }

vm_setup() {
	VM_TOP=$(cd "$VM_LIB/../../.." && pwd)
	: "${KVER:=$(ls /lib/modules | sort -V | tail -n 1)}"
	export KVER
	VM_KERNEL=/boot/vmlinuz-$KVER
	VM_BUILD=$VM_TOP/build/vm
	[ -r "$VM_KERNEL" ] || { vm_log "no kernel image $VM_KERNEL"; return 1; }
	[ -d "/lib/modules/$KVER" ] || { vm_log "no /lib/modules/$KVER"; return 1; }
	command -v qemu-system-x86_64 >/dev/null || { vm_log "qemu-system-x86_64 missing"; return 1; }
	mkdir -p "$VM_BUILD"
}

# The modules the initramfs loads, in dependency order: just enough to mount
# 9p over virtio-pci. Everything else is modprobed from the host's
# /lib/modules once the guest has chrooted into the shared root.
vm_initramfs_modules() {
	local m
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

vm_static_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox "$(command -v busybox)"; do
		[ -x "$b" ] || continue
		case $(LC_ALL=C ldd "$b" 2>&1) in *'not a dynamic'*) echo "$b"; return 0 ;; esac
	done
	return 1
}

# Builds build/vm/initramfs-$KVER.cpio.gz unless the one there was built from
# the same inputs (init script, busybox, module files).
vm_initramfs() {
	local busybox mods stamp out tmp m dst
	busybox=$(vm_static_busybox) || { vm_log "no statically linked busybox (busybox-static)"; return 1; }
	mods=$(vm_initramfs_modules)
	[ -n "$mods" ] || { vm_log "no virtio/9p modules for $KVER"; return 1; }
	out=$VM_BUILD/initramfs-$KVER.cpio.gz
	# shellcheck disable=SC2086
	stamp=$( { cat "$VM_LIB/init"; sha256sum "$busybox"; ls -l --time-style=+%s $mods; } | sha256sum | cut -d' ' -f1)
	VM_INITRAMFS=$out
	if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi
	vm_log "building $out"
	tmp=$(mktemp -d "$VM_BUILD/initramfs.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,modules}
	cp "$busybox" "$tmp/bin/busybox"
	cp "$VM_LIB/init" "$tmp/init"
	chmod 755 "$tmp/init" "$tmp/bin/busybox"
	for m in $mods; do
		dst=$(basename "$m")
		# busybox insmod wants plain ELF: unpack compressed modules here.
		case $m in
		*.ko.xz) xz -dc "$m" >"$tmp/modules/${dst%.xz}"; dst=${dst%.xz} ;;
		*.ko.zst) zstd -qdc "$m" >"$tmp/modules/${dst%.zst}"; dst=${dst%.zst} ;;
		*.ko.gz) gzip -dc "$m" >"$tmp/modules/${dst%.gz}"; dst=${dst%.gz} ;;
		*) cp "$m" "$tmp/modules/$dst" ;;
		esac
		echo "$dst" >>"$tmp/modules/order"
	done
	(cd "$tmp" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$out.tmp.$$"
	mv -f "$out.tmp.$$" "$out"
	echo "$stamp" >"$out.stamp"
	rm -rf "$tmp"
}

# vm_run NAME COMMAND: COMMAND is bash source run in the guest from the
# checkout's top directory, with USBVNET_SRC, USBVNET_KO, USBVNET_OUT, VM_LIB
# and KVER exported.
vm_run() {
	local name=$1 cmd=$2 rc qemu_rc start lock
	# build/vm/runs/NAME, unless someone else's run of NAME holds it (one
	# checkout, several people): then NAME.<pid>.
	mkdir -p "$VM_BUILD/runs"
	VM_RUN_DIR=$VM_BUILD/runs/$name
	exec {lock}>"$VM_RUN_DIR.lock"
	if ! flock -n "$lock"; then
		exec {lock}>&-
		VM_RUN_DIR=$VM_BUILD/runs/$name.$$
		exec {lock}>"$VM_RUN_DIR.lock"
		flock -n "$lock" || true
	fi
	rm -rf "$VM_RUN_DIR"
	mkdir -p "$VM_RUN_DIR"
	cat >"$VM_RUN_DIR/job.sh" <<-EOF
		export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		export HOME=/tmp TERM=dumb LANG=C.UTF-8
		export KVER=$(printf %q "$KVER")
		export USBVNET_SRC=/run/usbvnet/src
		export USBVNET_OUT=/run/usbvnet/out
		export USBVNET_KO=/run/usbvnet/src/linux-module/usbvnet.ko
		export VM_LIB=/run/usbvnet/src/test/vm/lib
		export VM_NAME=$(printf %q "$name")
		$(for v in ${!BENCH_@}; do printf 'export %s=%q\n' "$v" "${!v}"; done)
		cd "\$USBVNET_SRC"
		$cmd
	EOF
	local console=(-chardev "file,id=con,path=$VM_RUN_DIR/console.log")
	if [ "${VM_LIVE:-0}" = 1 ]; then
		console=(-chardev "stdio,id=con,logfile=$VM_RUN_DIR/console.log,signal=on")
	fi
	start=$SECONDS
	vm_log "booting $name (KVER $KVER, timeout ${VM_TIMEOUT:-300} s)"
	# TCG only: the guest hangs under KVM on the CI machines. No network.
	timeout -k 10 "${VM_TIMEOUT:-300}" qemu-system-x86_64 \
		-accel tcg -cpu "${VM_CPU:-max}" -smp "${VM_SMP:-2}" -m "${VM_MEM:-1536M}" \
		-nodefaults -no-user-config -no-reboot -display none -nic none \
		-uuid "${VM_UUID:-5ca1ab1e-0b5e-4e55-8a1e-00000000cafe}" \
		"${console[@]}" -serial chardev:con \
		-kernel "$VM_KERNEL" -initrd "$VM_INITRAMFS" \
		-append "console=ttyS0,115200 panic=-1 loglevel=${VM_LOGLEVEL:-7} mitigations=off random.trust_cpu=on tsc=reliable no_timer_check printk.devkmsg=on" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$VM_TOP,mount_tag=usbvnetsrc,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$VM_RUN_DIR,mount_tag=usbvnetout,security_model=none,multidevs=remap" \
		</dev/null
	qemu_rc=$?
	exec {lock}>&-
	VM_SECONDS=$((SECONDS - start))
	if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		vm_log "$name: timed out after ${VM_TIMEOUT:-300} s"
		return 124
	fi
	rc=$(cat "$VM_RUN_DIR/rc" 2>/dev/null)
	[ -n "$rc" ] || rc=$(sed -n 's/^USBVNET-VM-EXIT=\([0-9]*\).*/\1/p' "$VM_RUN_DIR/console.log" | tail -n 1)
	if [ -z "$rc" ]; then
		vm_log "$name: guest died without an exit status (qemu status $qemu_rc)"
		return 125
	fi
	vm_log "$name: guest exited with status $rc after $VM_SECONDS s"
	return "$rc"
}

# The last lines of the console, indented, for failure reports.
vm_console_tail() {
	tail -n "${1:-40}" "$VM_RUN_DIR/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/    /'
}

#!/usr/bin/env bash
# Runs the QEMU lab scenarios, one VM boot per scenario file, in name order:
#
#   test/vm/run-scenarios.sh              every test/vm/scenarios/*.sh
#   test/vm/run-scenarios.sh 20-slots ... only these (name, with or
#                                         without .sh, or a unique prefix)
#
# Prints each scenario's "PASS ..."/"FAIL ..." lines (all of its output when
# it failed, or with VERBOSE=1), a FAIL line naming a scenario whose VM timed
# out or died, with the console tail. Exits 1 if anything failed. Logs stay
# in build/vm/runs/<scenario>/: console.log, output.log, results.
# VM_JOBS=N runs N VMs at once (one vCPU each unless VM_SMP is set).
#
# A scenario may set VM knobs in its header:
#   # vm-timeout: 600        seconds before the VM is killed (default 300)
#   # vm-mem: 2048M
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/vm.sh
. "$here/lib/vm.sh"
vm_setup || { echo "FAIL vm: cannot set up the lab"; exit 1; }
vm_initramfs || { echo "FAIL vm: cannot build the initramfs"; exit 1; }
# The CLI as one tar the guest unpacks to tmpfs (see lib/cli-runtime.sh).
bash "$here/lib/cli-runtime.sh" "$VM_BUILD" || echo "vm: no CLI runtime tar; scenarios load the CLI over 9p (slow)"

scenarios=()
if (($#)); then
	for want in "$@"; do
		want=${want%.sh}
		want=${want##*/}
		match=("$here"/scenarios/"$want"*.sh)
		[ -e "${match[0]}" ] && [ -e "$here/scenarios/$want.sh" ] && match=("$here/scenarios/$want.sh")
		if [ ! -e "${match[0]}" ] || ((${#match[@]} > 1)); then
			echo "FAIL vm: no single scenario matches '$want'"
			exit 1
		fi
		scenarios+=("${match[0]}")
	done
else
	mapfile -t scenarios < <(ls "$here"/scenarios/*.sh | LC_ALL=C sort)
fi

header() { sed -n "s/^# $1: *//p" "$2" | head -n 1; }

# run_scenario FILE: boots one VM for it and prints its report; returns 1 if
# it failed.
run_scenario() {
	local file=$1 name rc out
	name=$(basename "$file" .sh)
	echo "--- scenario $name"
	VM_TIMEOUT=$(header vm-timeout "$file")
	VM_MEM=$(header vm-mem "$file")
	: "${VM_TIMEOUT:=300}" "${VM_MEM:=1536M}"
	VM_TIMEOUT=$VM_TIMEOUT VM_MEM=$VM_MEM \
		vm_run "$name" "bash \"\$VM_LIB/run-one.sh\" $(printf %q "$name") \"\$USBVNET_SRC/test/vm/scenarios/$name.sh\""
	rc=$?
	out=$VM_RUN_DIR/output.log
	if ((rc == 0)) && [ "${VERBOSE:-0}" != 1 ]; then
		grep -E '^(PASS|FAIL) ' "$out"
	else
		cat "$out" 2>/dev/null
	fi
	case $rc in
	0) ;;
	124)
		echo "FAIL $name: VM timed out after $VM_TIMEOUT s; console tail:"
		vm_console_tail 40
		;;
	125)
		echo "FAIL $name: VM died without an exit status; console tail:"
		vm_console_tail 40
		;;
	*)
		grep -q '^FAIL ' "$out" 2>/dev/null ||
			echo "FAIL $name: guest exited with status $rc"
		;;
	esac
	echo "--- scenario $name: $(grep -c '^PASS ' "$out" 2>/dev/null) passed," \
		"$(grep -c '^FAIL ' "$out" 2>/dev/null) failed, VM $VM_SECONDS s (logs: ${VM_RUN_DIR#"$VM_TOP"/})"
	# A FAIL line fails the run even if the guest exited 0.
	((rc == 0)) && ! grep -q '^FAIL ' "$out" 2>/dev/null
}

failed=0
jobs=${VM_JOBS:-1}
if ((jobs <= 1)); then
	for file in "${scenarios[@]}"; do
		run_scenario "$file" || failed=1
	done
	exit "$failed"
fi

# VM_JOBS=N: N VMs at once, each with VM_SMP vCPUs (default 1 here): the
# scenarios spend much of their time waiting on USB enumeration and DHCP
# timers, so they overlap well. The longest (by vm-timeout) start first; each
# report is printed whole when its VM ends.
: "${VM_SMP:=1}"
export VM_SMP
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
mapfile -t scenarios < <(for file in "${scenarios[@]}"; do
	t=$(header vm-timeout "$file")
	echo "${t:-300} $file"
done | sort -s -k1,1nr | cut -d' ' -f2-)
running=0
finish_one() {
	local done_name
	wait -n -p done_name || true
	done_name=${pids[$done_name]}
	cat "$reports/$done_name.out"
	[ "$(cat "$reports/$done_name.rc")" = 0 ] || failed=1
	running=$((running - 1))
}
declare -A pids=()
for file in "${scenarios[@]}"; do
	((running < jobs)) || finish_one
	name=$(basename "$file" .sh)
	(
		run_scenario "$file" >"$reports/$name.out" 2>&1
		echo $? >"$reports/$name.rc"
	) &
	pids[$!]=$name
	running=$((running + 1))
done
while ((running > 0)); do finish_one; done
exit "$failed"

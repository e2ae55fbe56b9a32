# What a scenario sources first, in the guest:
#   . "$VM_LIB/lab.sh"
# Brings in assert.sh (check, check_not, wait_for, check_dmesg_clean, pp)
# and gadget.sh (lab_init, gadget_*), plus the usbvnet module helpers below.
# Environment from the runner: USBVNET_SRC (checkout), USBVNET_KO (module),
# USBVNET_OUT (writable, carried out to build/vm/runs/<name>/), VM_LIB,
# KVER, SCENARIO (name, prefixes PASS/FAIL lines).
#
#   usbvnet_have_module            the module was built
#   usbvnet_load [PARAM=VAL...]    insmod $USBVNET_KO, wait for usbvnet0
#   usbvnet_unload                 rmmod usbvnet
#   usbvnet_cli ARGS...            node ${CLI_ROOT:-$USBVNET_SRC}/cli/bin/run.js ARGS
#   lab_cleanup                    remove gadgets and device namespaces
#                                  (scenarios: trap lab_cleanup EXIT)

# shellcheck source=assert.sh
. "$VM_LIB/assert.sh"
# shellcheck source=gadget.sh
. "$VM_LIB/gadget.sh"

USBVNET_IF=usbvnet0

# A scenario under set -e that stops on a failing command says which one and
# where (errtrace: also inside helper functions), instead of just exiting.
_lab_on_err() {
	[[ $- == *e* ]] || return 0
	echo "lab: '$2' failed with status $1 at $3; the scenario stops here" >&2
}
set -o errtrace
trap '_lab_on_err $? "$BASH_COMMAND" "${BASH_SOURCE[0]##*/}:$LINENO"' ERR

usbvnet_have_module() { [ -f "$USBVNET_KO" ]; }

usbvnet_load() {
	lab_log "insmod $USBVNET_KO $*"
	insmod "$USBVNET_KO" "$@" || return 1
	wait_for 10 ip link show "$USBVNET_IF" ||
		{ lab_log "$USBVNET_IF did not appear"; return 1; }
}

usbvnet_unload() {
	lab_log "rmmod usbvnet"
	rmmod usbvnet
}

# CLI_ROOT: where cli/ is read from; lib/cli-runtime.sh's cli_runtime_unpack
# points it at a tmpfs copy (node loading ~500 files over 9p is slow).
usbvnet_cli() { node "${CLI_ROOT:-$USBVNET_SRC}/cli/bin/run.js" "$@"; }

lab_cleanup() {
	gadget_remove_all 2>/dev/null || true
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '/^dev-/ { print $1 }'); do
		ip netns del "$ns" 2>/dev/null || true
	done
}

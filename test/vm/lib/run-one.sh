# Guest side of test/vm/run-scenarios.sh: runs one scenario file and then
# checks the kernel log of the whole run. Exit status 1 if any FAIL line was
# printed (they are also collected in $USBVNET_OUT/results).
#
#   bash run-one.sh NAME FILE
set -u
export SCENARIO=$1
file=$2
# shellcheck source=assert.sh
. "$VM_LIB/assert.sh"

: >"$USBVNET_OUT/results"
kmsg_mark "scenario $SCENARIO"
echo "=== $SCENARIO: start (kernel $(uname -r), $(nproc) CPUs)"
start=$(date +%s)
bash "$file"
rc=$?
[ "$rc" = 0 ] || _assert_result FAIL "scenario exited with status $rc"
check_dmesg_clean "kernel log clean"
echo "=== $SCENARIO: done in $(($(date +%s) - start)) s"
! grep -q '^FAIL ' "$USBVNET_OUT/results"

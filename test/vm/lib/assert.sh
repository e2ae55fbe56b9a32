# Assertions for lab scenarios, sourced in the guest (via lab.sh).
#
#   check NAME CMD [ARG...]        PASS if CMD succeeds, else FAIL with its
#                                  output indented below
#   check_not NAME CMD [ARG...]    PASS if CMD fails
#   check_wait NAME SECS CMD...    PASS if CMD succeeds within SECS seconds
#   wait_for SECS CMD [ARG...]     poll CMD every 0.1 s until it succeeds;
#                                  status 1 after SECS seconds
#   kmsg_mark [LABEL]              start a new kernel log window (writes a
#                                  marker line to /dev/kmsg)
#   kmsg_since_mark                kernel log lines after the last marker
#   check_dmesg_clean [NAME]       FAIL if the window has WARNING, BUG, Oops,
#                                  leak, general protection, refcount_t,
#                                  KASAN, unreferenced object, ... lines
#   pp CMD [ARG...]                print "+ CMD" then run it (netns.sh style)
#   nap SECS                       sleep without an exec (bash builtin read)
#
# Every PASS/FAIL line starts with "PASS " or "FAIL " followed by
# "$SCENARIO: " when SCENARIO is set, and is appended to
# $USBVNET_OUT/results so the runner can count them.

: "${SCENARIO:=}"
ASSERT_PASSED=0
ASSERT_FAILED=0
KMSG_MARK=

_assert_result() {
	local verdict=$1 name=$2
	local line="$verdict ${SCENARIO:+$SCENARIO: }$name"
	echo "$line"
	if [ -n "${USBVNET_OUT:-}" ] && [ -d "$USBVNET_OUT" ]; then
		echo "$line" >>"$USBVNET_OUT/results"
	fi
	if [ "$verdict" = PASS ]; then
		ASSERT_PASSED=$((ASSERT_PASSED + 1))
	else
		ASSERT_FAILED=$((ASSERT_FAILED + 1))
	fi
}

_assert_indent() { sed 's/^/    /'; }

check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" = 0 ]; then
		_assert_result PASS "$name"
	else
		_assert_result FAIL "$name"
		{ echo "\$ $* (status $rc)"; [ -z "$out" ] || echo "$out"; } | _assert_indent
	fi
	return 0
}

check_not() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" != 0 ]; then
		_assert_result PASS "$name"
	else
		_assert_result FAIL "$name"
		{ echo "\$ $* (succeeded, expected failure)"; [ -z "$out" ] || echo "$out"; } | _assert_indent
	fi
	return 0
}

wait_for() {
	local secs=$1 deadline
	shift
	# EPOCHREALTIME (bash 5) avoids a fork per poll, which TCG makes costly.
	deadline=$((${EPOCHREALTIME/./} + ${secs%.*} * 1000000))
	until "$@" >/dev/null 2>&1; do
		((${EPOCHREALTIME/./} < deadline)) || return 1
		nap 0.1
	done
}

# nap SECS: sleep without exec'ing sleep (read -t on a fifo nobody writes).
if [ -z "${NAP_FD:-}" ]; then
	_nap_fifo=$(mktemp -u /tmp/.nap.XXXXXX)
	mkfifo "$_nap_fifo"
	exec {NAP_FD}<>"$_nap_fifo"
	rm -f "$_nap_fifo"
	unset _nap_fifo
fi
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

check_wait() {
	local name=$1 secs=$2
	shift 2
	if wait_for "$secs" "$@"; then
		_assert_result PASS "$name"
	else
		_assert_result FAIL "$name"
		{ echo "\$ $* (still failing after $secs s)"; "$@" 2>&1; } | _assert_indent
	fi
	return 0
}

pp() {
	echo "+ $*"
	"$@"
}

kmsg_mark() {
	KMSG_MARK="usbvnet-lab-mark-$$-$RANDOM-$(date +%s%N) ${1:-}"
	echo "$KMSG_MARK" >/dev/kmsg
}

kmsg_since_mark() {
	if [ -z "$KMSG_MARK" ]; then
		dmesg
	else
		dmesg | awk -v m="$KMSG_MARK" 'found { print } index($0, m) { found = 1 }'
	fi
}

# What the kernel says when something went wrong. Debian's kernel has no
# KASAN or kmemleak, but a debug kernel swapped in later would.
KMSG_BAD='WARNING:|(^|[^A-Za-z_])BUG([^A-Za-z_]|$)|Oops|[Ll]eak|general protection|refcount_t|KASAN|UBSAN|unreferenced object|Call Trace|blocked for more than|soft lockup|hard LOCKUP|rcu.*stall|circular locking|list_(add|del) corruption|double free|use-after-free'

check_dmesg_clean() {
	local name=${1:-kernel log clean} bad
	bad=$(kmsg_since_mark | grep -E "$KMSG_BAD" || true)
	if [ -z "$bad" ]; then
		_assert_result PASS "$name"
	else
		_assert_result FAIL "$name"
		# The offending lines plus some context, capped.
		kmsg_since_mark | grep -E -A 12 "$KMSG_BAD" | head -n 80 | _assert_indent
	fi
	return 0
}

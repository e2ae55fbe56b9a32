#!/usr/bin/env bash
# Runs test suites and sums their results. Each suite is a command that prints
# one line per test case, "PASS <name>" or "FAIL <name>" (anything else is
# shown as it is), and exits non-zero if it could not run at all (counted as
# one failure). Ends with the line "N passed, N failed".
#
#   test/run-suites.sh 'name:command' ...
set -uo pipefail

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for spec in "$@"; do
	name=${spec%%:*}
	cmd=${spec#*:}
	echo "=== suite $name"
	start=$SECONDS
	bash -c "$cmd" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if ((rc != 0 && f == 0)); then
		echo "FAIL $name: suite exited with status $rc"
		f=1
	fi
	echo "=== suite $name: $p passed, $f failed ($((SECONDS - start)) s)"
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "$passed passed, $failed failed"
((failed == 0))

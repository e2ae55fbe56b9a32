#!/usr/bin/env bash
# Runs the compiled unit tests of cli/ (every cli/dist/**/*.test.js, built by
# "make cli" from cli/src/**/*.test.ts) with node --test, printing one line
# per test case, "PASS cli: <name>" or "FAIL cli: <name>" (see
# cli-test-reporter.mjs). Exits non-zero only if the tests could not run;
# failed tests are reported by their FAIL lines, for test/run-suites.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."

# Compiled tests whose source is gone (deleted or renamed since the last
# build) would still run from cli/dist: leave them out.
files=()
while IFS= read -r compiled; do
	source=cli/src/${compiled#cli/dist/}
	if [ -f "${source%.js}.ts" ]; then
		files+=("$compiled")
	else
		echo "run-cli-tests: skipping $compiled, its source ${source%.js}.ts is gone"
	fi
done < <(find cli/dist -name '*.test.js' -type f 2>/dev/null | sort)

if ((${#files[@]} == 0)); then
	echo "run-cli-tests: no compiled tests under cli/dist (run \"make cli\" first)" >&2
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
node --test --test-reporter=./test/unit/cli-test-reporter.mjs "${files[@]}" | tee "$log"
# node exits 1 when a test failed: that is a result, not a failure to run.
# Only a run that never reached the reporter's summary line could not run.
if ! grep -q '^cli tests: [0-9]* passed, [0-9]* failed$' "$log"; then
	echo "run-cli-tests: node --test did not complete" >&2
	exit 1
fi
exit 0

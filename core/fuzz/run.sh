#!/usr/bin/env bash
# Builds the core fuzzers with clang + libFuzzer and runs each for a bounded
# time (seconds, first argument), printing one PASS/FAIL line per fuzzer.
set -uo pipefail
secs=${1:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/fuzz
mkdir -p "$out"
status=0
for src in "$top"/core/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$out/$name
	if ! clang -g -O1 -std=c99 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$top/core" -o "$bin" "$src" "$top"/core/uvn_*.c; then
		echo "FAIL fuzz: $name does not build"
		status=1
		continue
	fi
	mkdir -p "$out/corpus-$name"
	seeds=$top/core/fuzz/seeds/$name
	if "$bin" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
		"$out/corpus-$name" ${seeds:+$( [ -d "$seeds" ] && echo "$seeds")} >"$out/$name.log" 2>&1; then
		echo "PASS fuzz: $name ($secs s, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/$name.log" | awk '{print $2}') runs)"
	else
		echo "FAIL fuzz: $name"
		tail -n 30 "$out/$name.log" | sed 's/^/    /'
		status=1
	fi
done
exit $status

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# libfuzzer.sh - builds the fuzz targets of tests/fuzz with clang's libFuzzer
# (-fsanitize=fuzzer,address,undefined; libagentid's sources compiled again
# with coverage into $top_builddir/fuzz) and runs each one.
#   libfuzzer.sh build     build only
#   libfuzzer.sh run       build, then run each target FUZZ_SECONDS (60)
# FUZZ_TARGETS (default: all) names the targets; FUZZ_CC the compiler
# (clang). Each run starts from a copy of tests/fuzz/corpus/NAME in
# fuzz/corpus/NAME (new inputs stay there, the source tree is not touched)
# and writes a crashing input to fuzz/crashes/; copy it into
# tests/fuzz/corpus/NAME once the parser is fixed, as a regression input.
# Prints per target: executions, execs/s, coverage (cov: edges, ft:
# features), corpus size. Exits 77 when libFuzzer is not available, 1 when a
# target crashed or failed to build.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${top_builddir:-.}
mode=${1:-run}
secs=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
targets=${FUZZ_TARGETS:-config time scope sshcert authinfo replica replica_crc audit audit_verify audit_format grant dn}
out=$bld/fuzz
skip() { printf '\n*** SKIP: %s ***\n\n' "$*" >&2; exit 77; }

command -v "$cc" >/dev/null 2>&1 || skip "$cc is not installed (Debian: clang libclang-rt-14-dev)"
[ -f "$bld/config.h" ] || { echo "libfuzzer.sh: no config.h in $bld (configure first)" >&2; exit 1; }
mkdir -p "$out/obj" "$out/corpus" "$out/crashes" || exit 1
probe=$out/probe.c
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe"
"$cc" -fsanitize=fuzzer,address,undefined "$probe" -o "$out/probe" 2>/dev/null ||
	skip "$cc cannot link -fsanitize=fuzzer,address,undefined (Debian: libclang-rt-14-dev)"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# what Makefile.am defines on the command line (quotes would not survive
# the sh -c below): a forced include
printf '%s\n' '#define SYSCONFDIR "/etc"' '#define LOCALSTATEDIR "/var"' \
    '#define AGENTID_LDAP_MODULE_PATH "/nonexistent/agentid-ldap.so"' \
    >"$out/fuzz-defs.h"
CFLAGS="-std=gnu11 -g -O1 -Wall -Wno-unused-command-line-argument $SAN \
 -I$bld -I$src/include -I$src/common -include $out/fuzz-defs.h"
LIBS="-lldap -llber -lcrypto -ljansson -lcdb -lpthread"

# libagentid (every source of common/ is in libagentid-core), with coverage;
# rebuilt when any source or header is newer than the archive
lib=$out/libagentid-fuzz.a
if [ ! -f "$lib" ] || [ -n "$(find "$src/common" "$src/include" "$bld/config.h" \
    -newer "$lib" -print -quit)" ]; then
	echo "libfuzzer.sh: compiling libagentid with $cc (coverage + ASan/UBSan)"
	rm -f "$out"/obj/*.o
	ls "$src"/common/*.c | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} \
		sh -c 'f={}; exec '"$cc"' '"$CFLAGS"' -fsanitize=fuzzer-no-link -c "$f" -o "'"$out"'/obj/$(basename "$f" .c).o"' ||
		{ echo "libfuzzer.sh: libagentid failed to build" >&2; exit 1; }
	rm -f "$lib"
	ar rcs "$lib" "$out"/obj/*.o || exit 1
fi

for t in $targets; do
	file=$t defs=
	case $t in
	replica_crc) file=replica defs=-DFUZZ_FIX_CRC ;;
	esac
	[ -f "$src/tests/fuzz/fuzz_$file.c" ] ||
		{ echo "libfuzzer.sh: no target $t" >&2; exit 1; }
	bin=$out/fuzz_$t
	if [ ! -x "$bin" ] || [ "$src/tests/fuzz/fuzz_$file.c" -nt "$bin" ] ||
	    [ "$lib" -nt "$bin" ]; then
		$cc $CFLAGS -fsanitize=fuzzer $defs "$src/tests/fuzz/fuzz_$file.c" \
			"$lib" $LIBS -o "$bin" ||
			{ echo "libfuzzer.sh: fuzz_$t failed to build" >&2; exit 1; }
	fi
done
[ "$mode" = build ] && exit 0

fails=0
printf '%-13s %10s %9s %7s %7s %6s %s\n' target execs execs/s cov ft corpus result
for t in $targets; do
	work=$out/corpus/$t
	mkdir -p "$work"
	[ -d "$src/tests/fuzz/corpus/$t" ] && cp -n "$src/tests/fuzz/corpus/$t"/* "$work"/ 2>/dev/null
	log=$out/fuzz_$t.log
	ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1}:detect_leaks=1 \
	"$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/crashes/$t-" \
		"$work" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	if [ $rc -eq 0 ]; then
		res=ok
	else
		res="FAILED (exit $rc): $(grep -m1 -E 'ERROR|SUMMARY|Test unit written' "$log")"
		fails=$((fails + 1))
	fi
	printf '%-13s %10s %9s %7s %7s %6s %s\n' "$t" "${execs:-?}" "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$res"
	if [ $rc -ne 0 ]; then
		tail -n 40 "$log" >&2
		ls "$out/crashes/$t-"* 2>/dev/null >&2
	fi
done
[ $fails -eq 0 ] || { echo "libfuzzer.sh: $fails target(s) failed" >&2; exit 1; }
exit 0

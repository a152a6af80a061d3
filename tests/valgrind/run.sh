#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/valgrind/run.sh - memory errors and leaks of the PAM module and the
# NSS module under valgrind memcheck, on a build without sanitizers (issue
# 15, item 5). Configures the tree in its own build directory (default
# build/valgrind; VALGRIND_BUILD overrides), builds the check programs, then
# runs under memcheck (--error-exitcode=1 --leak-check=full
# --errors-for-leak-kinds=definite):
#   - tests/pam/test_pam_agent.sh and test_pam_env.sh, with pam_driver (the
#     real libpam loading pam_agent.so) replaced by a wrapper that runs it
#     under valgrind, one log per process;
#   - tests/nss/test_nss_module (libnss_agent.so.2 dlopened: every entry
#     point, the buffer contract at every size, corrupt replicas);
#   - tests/nss/test_nss_getent.sh and test_nss_collisions.sh, with glibc's
#     getent and id under memcheck (the module loaded by glibc; full run);
#   - every fuzz target's corpus replay (the parsers without ASan).
# Any memcheck error or definite leak in any process fails the run, even
# where the test script itself would have passed. The threads of the NSS
# module run under ThreadSanitizer in make check already
# (tests/nss/test_nss_threads.sh: lookups from 8 threads while the replica
# is replaced by rename), and with agentidd's writer in tests/tsan/run.sh.
#   tests/valgrind/run.sh          configure, build, run all of the above
#                                  (make check-valgrind; about 15 minutes
#                                  on a busy 2-core VM)
#   tests/valgrind/run.sh --short  the same without test_pam_agent.sh and
#                                  the glibc NSS tests (scripts/test; about
#                                  1 minute)
# Exits 77 when valgrind is not installed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bld=${VALGRIND_BUILD:-$top/build/valgrind}
jobs=$(nproc 2>/dev/null || echo 2)
skip() { printf '\n*** SKIP: %s ***\n\n' "$*" >&2; exit 77; }
command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed"

start=$(date +%s)
mkdir -p "$bld" || exit 1
cd "$bld" || exit 1
if [ ! -f Makefile ]; then
	[ -x "$top/configure" ] || (cd "$top" && mkdir -p m4 && autoreconf -fi >/dev/null 2>&1)
	"$top/configure" -q --enable-werror || { echo "run.sh: configure failed" >&2; exit 1; }
fi
# the programs of the tests below (TESTS= builds them, runs nothing)
make -s -j"$jobs" >make.out 2>&1 && make -s -j"$jobs" check TESTS= >>make.out 2>&1 ||
	{ tail -n 40 make.out >&2; echo "run.sh: build failed" >&2; exit 1; }
echo "run.sh: built in $(( $(date +%s) - start )) s ($bld)"

logs=$bld/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
VG="valgrind -q --suppressions=$top/tests/valgrind/agentid.supp --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no --num-callers=30"

# pam_driver under memcheck: the test scripts run $top_builddir/tests/pam/pam_driver
drv=$bld/tests/pam/pam_driver
# (an ELF file there is the program make just built: it becomes .real)
if [ "$(head -c 4 "$drv" | tail -c 3)" = ELF ]; then
	mv -f "$drv" "$drv.real" || exit 1
fi
[ "$(head -c 4 "$drv.real" 2>/dev/null | tail -c 3)" = ELF ] ||
	{ echo "run.sh: $drv.real is not the driver program" >&2; exit 1; }
# --short: only the first 60 driver processes under memcheck (every
# sequential case of the PAM tests); the rest, test_pam_agent's concurrent
# login loops, run plain: under memcheck they alone take minutes
max=0
[ "${1:-}" = "--short" ] && max=${VALGRIND_PAM_MAX:-60}
echo 0 >"$logs/driver.count"
cat >"$drv" <<WRAP
#!/bin/bash
if [ $max -gt 0 ]; then
	n=\$(flock "$logs/driver.count" bash -c 'n=\$(( \$(cat "\$1") + 1 )); echo \$n >"\$1"; echo \$n' x "$logs/driver.count")
	[ "\$n" -gt $max ] && exec "$drv.real" "\$@"
fi
exec $VG --log-file="$logs/pam_driver.%p.log" "$drv.real" "\$@"
WRAP
chmod 755 "$drv"

fails=0
run_test() { # NAME COMMAND...: runs a test script or program, reports
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	# as make check's AM_TESTS_ENVIRONMENT: the LDAP plugin of this build
	top_srcdir=$top top_builddir=$bld \
	    AGENTID_LDAP_MODULE="$bld/common/.libs/agentid-ldap.so" \
	    "$@" >"$logs/$name.out" 2>&1
	rc=$?
	case $rc in
	0) echo "ok: $name ($(( $(date +%s) - t0 )) s)" ;;
	77) echo "SKIP: $name: $(grep -m1 SKIP "$logs/$name.out")" ;;
	*) echo "FAIL: $name exited $rc ($(( $(date +%s) - t0 )) s)" >&2
	   tail -n 30 "$logs/$name.out" >&2
	   fails=$((fails + 1)) ;;
	esac
}

# test_pam_agent.sh under memcheck takes 5+ minutes (its 8 concurrent login
# loops) and its 3 s directory timeout is then exceeded now and then: the
# full run only
[ $max -eq 0 ] && run_test test_pam_agent bash "$top/tests/pam/test_pam_agent.sh"
run_test test_pam_env bash "$top/tests/pam/test_pam_env.sh"
run_test test_nss_module $VG --log-file="$logs/test_nss_module.%p.log" \
	"$bld/tests/nss/test_nss_module"
# the NSS module through glibc: the tests' getent and id (found on PATH by
# nss_run inside its namespace) run under memcheck, the module loaded by
# glibc as in production (root only: the tests SKIP otherwise). Without
# --run-libc-freeres=no, valgrind's exit-time __libc_freeres unloads the
# module, and the one map it keeps for the process's life (map.c's
# current) shows as a definite leak that no real process has.
wrap=$logs/bin
mkdir -p "$wrap"
for prog in getent id; do
	real=$(command -v "$prog") || continue
	printf '#!/bin/sh\nexec %s --log-file=%s/%s.%%p.log %s "$@"\n' \
	    "$VG --run-libc-freeres=no" "$logs" "$prog" "$real" >"$wrap/$prog"
	chmod 755 "$wrap/$prog"
done
# (about 2.5 minutes on a busy 2-core VM: the full run only)
if [ $max -eq 0 ]; then
	PATH=$wrap:$PATH run_test test_nss_getent bash "$top/tests/nss/test_nss_getent.sh"
	PATH=$wrap:$PATH run_test test_nss_collisions bash "$top/tests/nss/test_nss_collisions.sh"
fi
for f in "$bld"/tests/fuzz/fuzz_*; do
	case $f in *.o|*.log|*.trs) continue ;; esac
	[ -x "$f" ] || continue
	n=$(basename "$f")
	run_test "$n" $VG --log-file="$logs/$n.%p.log" "$f"
done

# every process's log: any error or definite leak fails the run
n_logs=$(ls "$logs"/*.log 2>/dev/null | wc -l)
bad=$(grep -l -E '^==[0-9]+== ' "$logs"/*.log 2>/dev/null)
if [ -n "$bad" ]; then
	for l in $bad; do
		echo "---- $l" >&2
		head -n 60 "$l" >&2
	done
	echo "FAIL: memcheck reported errors or definite leaks in $(echo "$bad" | wc -l) process(es)" >&2
	fails=$((fails + 1))
fi
[ "$n_logs" -gt 0 ] || { echo "FAIL: no process ran under valgrind" >&2; fails=$((fails + 1)); }
echo "run.sh: $n_logs processes under memcheck, $(( $(date +%s) - start )) s in all"
[ $fails -eq 0 ] || { echo "run.sh: $fails failure(s)" >&2; exit 1; }
echo "run.sh: no memory error, no definite leak"

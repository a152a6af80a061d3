#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/nss.sh - figures for libnss_agent.so.2 and `agentid sync`. Prints
# figures; never fails on time (exit 1 only if something does not work).
#
#   top_srcdir=... top_builddir=... bash bench/nss.sh     (as root)
#
# - getpwnam_r and getpwuid_r through glibc (a private mount namespace with
#   its own nsswitch.conf), mean microseconds, cold (first lookup of each of
#   20000 distinct agents in a fresh process: module load and first touch of
#   the pages included) and warm (5 more passes), on replicas of 100k and 1M
#   agents generated directly, alone and with a delta of 1000 changed agents
#   (as agentidd leaves beside it); in the same run: glibc's dispatch floor
#   (a module that answers at once), `files agent` against `files null` as
#   deployed (the machine's short /etc/passwd first), nss_files on a
#   100k-line /etc/passwd, and the module called directly (dlopen, no glibc
#   dispatch);
# - `agentid sync` of 100k agents (1000 owners, every 10th agent delegated,
#   100 groups of 1000) from a private slapd on loopback (loaded with
#   slapadd), twice;
# - the thread test at full size (8 threads x 100k lookups, ThreadSanitizer).
# Uses an optimised build without sanitizers: when top_builddir is
# sanitized, one is configured and built under a temporary directory.
# Environment: NSS_BENCH_SKIP_SYNC=1, NSS_BENCH_SKIP_THREADS=1 to leave those
# out; NSS_BENCH_KEYS (default 20000); NSS_BENCH_RUNS (default 3: each
# figure is the best of that many fresh processes).
set -u
src=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
bld=$(cd "${top_builddir:-.}" && pwd)
export top_srcdir=$src
KEYS=${NSS_BENCH_KEYS:-20000}
RUNS=${NSS_BENCH_RUNS:-3}
. "$src/tests/nss/nss-lib.sh"
why=$(nss_unusable)
[ -z "$why" ] || { echo "bench/nss.sh: $why" >&2; exit 1; }
W=$NSS_TMP
trap 'rm -rf "$W"' EXIT
say() { printf '%s\n' "$*"; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }

# ---- an optimised build without sanitizers --------------------------------
if grep -q -- '^[A-Z_]* = .*-fsanitize' "$bld/Makefile" 2>/dev/null; then
	say "building an optimised copy without sanitizers in $W/build ..."
	mkdir -p "$W/build"
	(cd "$W/build" && "$src/configure" -q CFLAGS="-O2 -g" >/dev/null &&
	    make -j2 >/dev/null 2>&1) || { echo "build failed" >&2; exit 1; }
	B=$W/build
else
	B=$bld
fi
make -C "$B" tests/nss/gen_replica bench/nss_bench >/dev/null 2>&1 ||
    { echo "make gen_replica/nss_bench failed" >&2; exit 1; }
mkdir -p "$W/lib"
cp -P "$B"/nss_agent/.libs/libnss_agent.so* "$W/lib/"
gcc -O2 -shared -fPIC -Wl,-soname,libnss_null.so.2 "$src/bench/nss_null.c" \
    -o "$W/lib/libnss_null.so.2" || exit 1
BENCH=$B/bench/nss_bench
GEN=$B/tests/nss/gen_replica
export top_builddir=$B

say ""
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
say "kernel $(uname -r), $(ldd --version | head -1)"

# ---- replicas and a 100k-line passwd file ---------------------------------
for n in 100000 1000000; do
	t0=$(date +%s.%N)
	"$GEN" --users $n --groups $((n / 1000)) "$W/r$n.cdb" || exit 1
	t1=$(date +%s.%N)
	say "$(printf 'replica %7d agents: %5s MB, written in %s s' $n \
	    "$(calc "$(stat -c %s "$W/r$n.cdb") / 1048576")" "$(calc "$t1 - $t0")")"
	# the same base (a hard link) with a delta of 1000 changed agents
	ln "$W/r$n.cdb" "$W/d$n.cdb" &&
	    "$GEN" --delta-changes 1000 "$W/d$n.cdb" || exit 1
	say "$(printf '  + delta of 1000 changes: %s KB' \
	    "$(calc "$(stat -c %s "$W/d$n.cdb.delta") / 1024")")"
done
{
	grep '^root:' /etc/passwd
	awk 'BEGIN { for (i = 1; i <= 100000; i++)
		printf "user-%07d:x:%d:%d:User %d:/home/user-%07d:/bin/bash\n",
		    i, 200000 + i, 200000 + i, i, i }'
} >"$W/passwd.100k"

# best CMD...: runs CMD (an nss_bench) RUNS times, each a fresh process, and
# prints the lowest cold and warm figures (the machine may be shared).
best() {
	local i
	for i in $(seq 1 "$RUNS"); do
		"$@" || echo "FAILED"
	done | awk -v runs="$RUNS" '/FAILED/ { bad = 1 }
	    /cold/ { if (c == "" || $2 < c) c = $2; if (w == "" || $5 < w) w = $5;
		     keys = $7 }
	    END { if (bad || c == "") print "(failed)";
		  else printf "cold %8.2f us  warm %8.2f us  (%s keys, best of %d)\n", c, w, substr(keys, 2), runs }'
}

# run LABEL NSSWITCH_LINE REPLICA ARGS... : fresh processes in a namespace
run() {
	local label=$1 line=$2 replica=$3
	shift 3
	nss_setup "$W/lib" "$line"
	printf '  %-38s ' "$label"
	best nss_run "$replica" "$BENCH" glibc "$@"
}

say ""
say "getpwnam_r / getpwuid_r through glibc, mean per lookup ($KEYS distinct keys):"
run "dispatch floor (module does nothing)" "passwd: null" "$W/r100000.cdb" \
    name agent- 1 100000 "$KEYS"
for n in 100000 1000000; do
	run "agent ${n} agents, by name" "passwd: agent" "$W/r$n.cdb" \
	    name agent- 1 $n "$KEYS"
	run "agent ${n} agents, by uid" "passwd: agent" "$W/r$n.cdb" \
	    uid - 100000 $n "$KEYS"
	run "agent ${n} + delta, by name" "passwd: agent" "$W/d$n.cdb" \
	    name agent- 1 $n "$KEYS"
	run "agent ${n} + delta, by uid" "passwd: agent" "$W/d$n.cdb" \
	    uid - 100000 $n "$KEYS"
done
# as deployed: the machine's short /etc/passwd first, against that floor
run "floor as deployed (files null)" "passwd: files null" "$W/r100000.cdb" \
    name agent- 1 100000 "$KEYS"
for n in 100000 1000000; do
	run "files agent ${n} + delta, by name" "passwd: files agent" \
	    "$W/d$n.cdb" name agent- 1 $n "$KEYS"
done
nss_bind "$W/passwd.100k" /etc/passwd
run "files 100k lines, by name (500 keys)" "passwd: files" "$W/r100000.cdb" \
    name user- 1 100000 500
run "files 100k lines, by uid (500 keys)" "passwd: files" "$W/r100000.cdb" \
    uid - 200001 100000 500
NSS_BINDS=()

say ""
say "the module alone (dlopen, _nss_agent_* called directly):"
for n in 100000 1000000; do
	for k in name uid; do
		printf '  %-38s ' "agent ${n} agents, by $k"
		if [ $k = name ]; then a="name agent- 1"; else a="uid - 100000"; fi
		# shellcheck disable=SC2086
		AGENTID_REPLICA=$W/r$n.cdb best "$BENCH" direct \
		    "$W/lib/libnss_agent.so.2" $a $n "$KEYS"
	done
done

# ---- sync of 100k agents from slapd ---------------------------------------
if [ "${NSS_BENCH_SKIP_SYNC:-0}" != 1 ]; then
	say ""
	say "agentid sync of 100k agents from slapd on loopback:"
	(
		. "$src/tests/integration/slapd-fixture.sh"
		slapd_start >/dev/null || exit 1
		d=$AGENTID_TEST_LDAP_DIR base=$AGENTID_TEST_LDAP_BASE
		awk -v base="$base" -v nt="$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)" '
		BEGIN {
			printf "dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n", base
			printf "dn: ou=agents,%s\nobjectClass: organizationalUnit\nou: agents\n\n", base
			printf "dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n", base
			for (i = 1; i <= 1000; i++)
				printf "dn: uid=owner-%04d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: owner-%04d\ncn: Owner %d\nsn: Owner\n\n", i, base, i, i
			for (i = 1; i <= 100000; i++) {
				if (i % 10 == 0)
					owner = sprintf("uid=agent-%07d,ou=agents,%s", i - 1, base)
				else
					owner = sprintf("uid=owner-%04d,ou=people,%s", i % 1000 + 1, base)
				printf "dn: uid=agent-%07d,ou=agents,%s\nobjectClass: account\nobjectClass: posixAccount\nobjectClass: agentIdentity\nuid: agent-%07d\ncn: agent-%07d\nuidNumber: %d\ngidNumber: %d\nhomeDirectory: /home/agent-%07d\nloginShell: /bin/bash\ngecos: Agent %d\nagentOwner: %s\nagentNotAfter: %s\nagentScope: host:*\nagentScope: service:sshd\n\n", i, base, i, i, 100000 + i, 100000 + i, i, i, owner, nt
			}
			for (g = 1; g <= 100; g++) {
				printf "dn: cn=team-%03d,ou=groups,%s\nobjectClass: posixGroup\ncn: team-%03d\ngidNumber: %d\n", g, base, g, 300000 + g
				for (i = g; i <= 100000; i += 100)
					printf "memberUid: agent-%07d\n", i
				printf "\n"
			}
		}' >"$d/100k.ldif"
		# slapadd needs slapd stopped; restart it on the same addresses
		kill "$AGENTID_TEST_LDAP_PID"
		wait "$AGENTID_TEST_LDAP_PID" 2>/dev/null
		sed -i 's/^maxsize .*/maxsize 4294967296/' "$d/slapd.conf"
		t0=$(date +%s.%N)
		slapadd -q -f "$d/slapd.conf" -l "$d/100k.ldif" >"$d/slapadd.log" 2>&1 ||
		    { cat "$d/slapadd.log" >&2; exit 1; }
		printf '  slapadd of 101,103 entries: %s s\n' "$(calc "$(date +%s.%N) - $t0")"
		slapd -f "$d/slapd.conf" -d 0 -h "$AGENTID_TEST_LDAP_URI/ $AGENTID_TEST_LDAP_LDAPS_URI/ $AGENTID_TEST_LDAP_LDAPI_URI" \
		    >"$d/slapd.log" 2>&1 &
		AGENTID_TEST_LDAP_PID=$!
		_SLAPD_PIDS+=("$AGENTID_TEST_LDAP_PID")
		for i in $(seq 1 100); do
			ldapsearch -x -LLL -H "$AGENTID_TEST_LDAP_LDAPI_URI" -s base -b "" \
			    namingContexts >/dev/null 2>&1 && break
			sleep 0.1
		done
		slapd_write_conf "$d/agentid.conf"
		for k in 1 2; do
			printf '  sync %d: ' $k
			"$B/agentid" --config "$d/agentid.conf" sync 2>&1 | tail -1
		done
		printf '  replica: %s MB\n' "$(calc "$(stat -c %s "$d/agents.cdb") / 1048576")"
	) || say "  (sync benchmark failed)"
fi

# ---- the thread test at full size -------------------------------------------
if [ "${NSS_BENCH_SKIP_THREADS:-0}" != 1 ]; then
	say ""
	say "threads (ThreadSanitizer, replica replaced every millisecond):"
	printf '  '
	NSS_THREADS_LOOKUPS=100000 top_builddir=$B bash "$src/tests/nss/test_nss_threads.sh" 2>&1 |
	    grep -E 'threads x|SKIP|FAIL|WARNING' | head -5
fi

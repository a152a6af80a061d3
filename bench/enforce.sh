#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/enforce.sh - figures for runtime enforcement (issue #12). Prints
# them; never fails on time (exit 1 only when something does not work, 77
# when it cannot run here).
#
#   sudo top_srcdir=... top_builddir=... bash bench/enforce.sh [--quick]
#
# Real parts: a private slapd with syncprov (tests/integration/
# slapd-fixture.sh), agentidd (syncrepl, writing the replica, as the system
# user agentid of a copy of /etc bound in a private mount namespace) and
# agentid-enforcer as daemons, as the packages run them. Each agent session
# is opened through the real PAM stack by bench/enforce_session: a fresh
# kernel audit session (pam_loginuid's write of /proc/self/loginuid), then
# pam_agent's account and session (which decide and register the session
# under the registry), then a process tree: the leader (enforce_session,
# alive for the session as sshd's monitor is), the session's command (sleep)
# and a process that left with setsid and a double fork. Not sshd: 50 sshd
# logins measure sshd too (tests/e2e/test_enforce_sshd.sh prints that
# figure for one); this measures agentid's part.
#
# 1. revocation: 50 sessions of 50 agents open; one agent at a time gets
#    `agentStatus: revoked` (one long-running ldapmodify: no process start
#    in the figure); time from the write to every process of its session
#    gone: p50/p99/max over 50;
# 2. expiry: 20 sessions whose agentNotAfter is set a few seconds ahead
#    (clock_skew 0): time from agentNotAfter to every process gone (the
#    engine says expired once now > notAfter, in whole seconds: about 1 s
#    of each figure is that rule, not latency);
# 3. load: 1,000 open sessions (2,000 processes besides the leaders); the
#    enforcer's CPU (utime+stime from /proc) idle for 10 s, then under 100
#    agentNotAfter changes/s (round robin over those 1,000 agents: each
#    change touches one session's chain, which the enforcer decides again;
#    it decides all 1,000 each heartbeat) for 30 s; agentidd's and slapd's
#    beside it; then 20 revocations with the 1,000 open.
# --quick: 200 sessions and 15 s of load.
#
# Prints a markdown table and writes it to bench/results/enforce-<UTC
# time>.md, the figures to bench/results/enforce-<UTC time>.json.
# From scripts/bench (an optional section, after its own run):
#   ENFORCE_BENCH_BUILD=$B bash "$src/bench/enforce.sh" [--quick]
# Uses an optimised build without sanitizers: ENFORCE_BENCH_BUILD=DIR (a
# configured tree), else top_builddir when it is not sanitized, else one
# configured and built in the temp dir. ENFORCE_BENCH_KEEP=1 keeps the
# temp dir.
set -u
src=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
bld=$(cd "${top_builddir:-.}" && pwd)
export top_srcdir=$src

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
N_REV=50
N_EXP=20
N_LOAD=1000
LOAD_S=30
RATE=100
N_REV_LOAD=20
if [ "$QUICK" = 1 ]; then
	N_LOAD=200
	LOAD_S=15
fi

say() { printf '%s\n' "$*"; }
die() { echo "bench/enforce.sh: $*" >&2; exit 1; }
skip() { echo "bench/enforce.sh: SKIP: $*" >&2; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (kernel audit sessions, agentidd)"
command -v unshare >/dev/null || skip "unshare is missing"
command -v python3 >/dev/null || skip "python3 is missing"
command -v ldapmodify >/dev/null || skip "ldap-utils is missing"
[ -r /usr/lib/ldap/syncprov.so ] || [ -r /usr/lib/ldap/syncprov.la ] ||
	skip "slapd's syncprov module is missing (agentidd needs it)"
ses=$( (echo 60000 >/proc/self/loginuid && cat /proc/self/sessionid) \
    2>/dev/null)
[ -n "$ses" ] && [ "$ses" != 4294967295 ] ||
	skip "cannot start a kernel audit session (/proc/self/loginuid)"

# A private mount namespace with a copy of /etc holding the system user
# agentid (agentidd drops to it); the machine's /etc is not touched.
if [ -z "${ENFORCE_BENCH_ETC:-}" ]; then
	ENFORCE_BENCH_ETC=$(mktemp -d /tmp/agentid-enfbench-etc.XXXXXX) || exit 1
	export ENFORCE_BENCH_ETC
	cp -a /etc/. "$ENFORCE_BENCH_ETC/" || { rm -rf "$ENFORCE_BENCH_ETC"; exit 1; }
	grep -q '^agentid:' /etc/passwd ||
	    echo 'agentid:x:64910:64910:agentid bench:/nonexistent:/usr/sbin/nologin' \
	    >>"$ENFORCE_BENCH_ETC/passwd"
	grep -q '^agentid:' /etc/group ||
	    echo 'agentid:x:64910:' >>"$ENFORCE_BENCH_ETC/group"
	unshare -m --propagation private "$BASH" -c '
	    mount --bind "$ENFORCE_BENCH_ETC" /etc && exec "$BASH" "$0" "$@"' \
	    "$0" "$@"
	rc=$?
	rm -rf "$ENFORCE_BENCH_ETC"
	exit $rc
fi

W=$(mktemp -d /tmp/agentid-enfbench.XXXXXX) || exit 1
DPID='' EPID=''
cleanup() {
	local p
	[ -n "$EPID" ] && kill "$EPID" 2>/dev/null && wait "$EPID" 2>/dev/null
	for f in "$W"/s/*.ready "$W"/s/*.esc; do
		[ -f "$f" ] || continue
		for p in $(cut -d' ' -f2- "$f"); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	slapd_stop 2>/dev/null
	[ "${ENFORCE_BENCH_KEEP:-}" = 1 ] && echo "kept $W" >&2 || rm -rf "$W"
}
trap 'rm -rf "$W"' EXIT

# ---- an optimised build without sanitizers --------------------------------
if [ -n "${ENFORCE_BENCH_BUILD:-}" ]; then
	B=$(cd "$ENFORCE_BENCH_BUILD" && pwd)
elif grep -q '^SANITIZER_FLAGS = .*-fsanitize' "$bld/Makefile" 2>/dev/null ||
    [ ! -f "$bld/Makefile" ]; then
	say "building an optimised copy without sanitizers in $W/build ..." >&2
	mkdir -p "$W/build"
	(cd "$W/build" && "$src/configure" -q CFLAGS="-O2 -g" >/dev/null &&
	    make -j"$(nproc)" >/dev/null 2>&1) || die "build failed"
	B=$W/build
else
	B=$bld
fi
grep -q '^SANITIZER_FLAGS = .*-fsanitize' "$B/Makefile" && die "$B is a sanitized build"
make -C "$B" -s agentidd/agentidd agentidd/agentid-enforcer \
    pam_agent/pam_agent.la bench/enforce_session >"$W/make.log" 2>&1 ||
	die "make failed: $(tail -5 "$W/make.log")"
AGENTIDD=$B/agentidd/agentidd
ENFORCER=$B/agentidd/agentid-enforcer
SESSION=$B/bench/enforce_session
MODULE=$B/pam_agent/.libs/pam_agent.so
WATCH=$src/bench/enforce_watch.py

# ---- the directory: 50 + 20 + N_LOAD agents under alice -------------------
. "$src/tests/integration/slapd-fixture.sh"
slapd_start --syncprov >/dev/null || die "slapd did not start"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
D=$AGENTID_TEST_LDAP_DIR
BASE=$AGENTID_TEST_LDAP_BASE
{
	cat <<EOF
dn: ou=people,@BASE@
objectClass: organizationalUnit
ou: people

dn: ou=agents,@BASE@
objectClass: organizationalUnit
ou: agents

dn: uid=alice,ou=people,@BASE@
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Example
EOF
	for a in $(seq -f rv-%g "$N_REV") $(seq -f ex-%g "$N_EXP") \
	    $(seq -f ld-%g "$N_LOAD"); do
		cat <<EOF

dn: uid=$a,ou=agents,@BASE@
objectClass: account
objectClass: agentIdentity
uid: $a
agentOwner: uid=alice,ou=people,@BASE@
agentNotAfter: @TIME(+30d)@
agentScope: host:bench.example.org
agentScope: service:agentid-bench
EOF
	done
} >"$W/agents.ldif"
slapd_load "$W/agents.ldif" >/dev/null || die "loading the agents failed"

C=$D/agentid.conf
R=$D/replica/agents.cdb
mkdir -p "$D/replica" || exit 1
mkdir -m 0700 "$W/sessions" || exit 1
export AGENTID_SESSION_DIR=$W/sessions
# clock_skew 0: the expiry figure is measured from agentNotAfter itself
# timeout 10, replica_max_age 60s: the machine may be loaded by others
slapd_write_conf "$C" "hostname bench.example.org" "replica $R" \
    "clock_skew 0" "enforce_grace 5s" "timeout 10" "replica_max_age 60s"
mkdir -p "$W/pam.d" "$W/s"
cat >"$W/pam.d/agentid-bench" <<EOF
account  required $MODULE config=$C
session  required $MODULE config=$C
EOF
# the session's command: a process tree, one branch of which escapes
cat >"$W/session.sh" <<'EOF'
#!/bin/sh
setsid sh -c 'sleep 3600 & echo $! >"$1.tmp" && mv "$1.tmp" "$1"' sh "$1" \
    </dev/null >/dev/null 2>&1
exec sleep 3600
EOF
chmod 0755 "$W/session.sh"

"$AGENTIDD" --foreground --config "$C" --user agentid >>"$W/agentidd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 300); do
	grep -q 'caught up' "$W/agentidd.log" && break
	sleep 0.1
done
grep -q 'caught up' "$W/agentidd.log" ||
	die "agentidd did not catch up: $(tail -5 "$W/agentidd.log")"
"$ENFORCER" --config "$C" >>"$W/enforcer.log" 2>&1 &
EPID=$!

# launch PREFIX I: starts session PREFIX-I in the background, not as this
# shell's job (no job notices when the enforcer ends it; cleanup finds it
# by its .ready); a refusal leaves PREFIX-I.fail
launch() {
	local f=$W/s/$1-$2
	# (the wrapper's own stderr is /dev/null: no "Killed" notices)
	( exec 2>/dev/null; { "$SESSION" --confdir "$W/pam.d" --service agentid-bench \
	    --user "$1-$2" --loginuid $((61000 + $2)) \
	    --rhost 192.0.2.7 --tty ssh --ready "$f.ready" \
	    -- "$W/session.sh" "$f.esc" >/dev/null 2>>"$W/sessions.err" ||
	    touch "$f.fail"; } & )
}
# open_sessions PREFIX N: opens PREFIX-1..N (50 at a time); appends
# "user leader child escaper" lines to $W/PREFIX.sessions. A session the
# stack refused (the directory slow to answer on a loaded machine) is
# tried again, 3 times at most.
OPEN_RETRIES=0
open_sessions() {
	local prefix=$1 n=$2 i j from f tries
	: >"$W/$prefix.sessions"
	for ((from = 1; from <= n; from += 50)); do
		for ((i = from; i < from + 50 && i <= n; i++)); do
			launch "$prefix" "$i"
		done
		for ((i = from; i < from + 50 && i <= n; i++)); do
			f=$W/s/$prefix-$i
			tries=1
			for ((j = 0; j < 3000; j++)); do
				[ -f "$f.ready" ] && [ -f "$f.esc" ] && break
				if [ -f "$f.fail" ] && [ "$tries" -lt 3 ]; then
					rm -f "$f.fail"
					tries=$((tries + 1))
					OPEN_RETRIES=$((OPEN_RETRIES + 1))
					sleep 1
					launch "$prefix" "$i"
				fi
				[ -f "$f.fail" ] && break
				sleep 0.02
			done
			[ -f "$f.ready" ] && [ -f "$f.esc" ] ||
				die "session $prefix-$i did not open: $(tail -3 "$W/sessions.err")"
			echo "$prefix-$i $(cut -d' ' -f2- "$f.ready") $(cat "$f.esc")" \
			    >>"$W/$prefix.sessions"
		done
	done
}
# cpu PID: utime+stime in clock ticks
cpu() { awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' \
    "/proc/$1/stat"; }
# pctl FILE: "p50 p99 max n" of the numbers in column 2 (nearest rank)
pctl() {
	awk '$2 ~ /^[0-9.]+$/ { print $2 }' "$1" | sort -n | awk '
	    { v[NR] = $1 }
	    END { if (NR == 0) { print "- - - 0"; exit }
		  i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999)
		  printf "%.0f %.0f %.0f %d\n", v[i50], v[i99], v[NR], NR }'
}
export LDAP_URI=$AGENTID_TEST_LDAP_LDAPI_URI LDAP_ROOTDN=$AGENTID_TEST_LDAP_ROOTDN
export LDAP_PWFILE=$W/root.pw LDAP_BASE=$BASE
(umask 077 && printf '%s' "$AGENTID_TEST_LDAP_ROOTPW" >"$LDAP_PWFILE")
TCK=$(getconf CLK_TCK)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

# ---- 1. revocation -> session gone, 50 sessions open -----------------------
say "opening $N_REV sessions ..." >&2
t0=$(date +%s%N)
open_sessions rv "$N_REV"
OPEN_MS=$((($(date +%s%N) - t0) / 1000000))
sleep 2 # the enforcer's pass over the new registrations is done
say "revoking them one at a time ..." >&2
python3 "$WATCH" revoke "$W/rv.sessions" "$W/rv.ms" || die "watcher failed"
read -r REV_P50 REV_P99 REV_MAX REV_N < <(pctl "$W/rv.ms")
REV_LEFT=$(grep -c 'left=' "$W/rv.ms")

# ---- 2. expiry deadline -> session gone -----------------------------------
say "opening $N_EXP sessions, their agentNotAfter a few seconds ahead ..." >&2
open_sessions ex "$N_EXP"
now=$(date +%s)
: >"$W/ex.watch"
{
	i=0
	while read -r u pids; do
		i=$((i + 1))
		na=$((now + 8 + i))
		echo "$u $na $pids" >>"$W/ex.watch"
		printf 'dn: uid=%s,ou=agents,%s\nchangetype: modify\nreplace: agentNotAfter\nagentNotAfter: %s\n\n' \
		    "$u" "$BASE" "$(date -u -d "@$na" +%Y%m%d%H%M%SZ)"
	done <"$W/ex.sessions"
} | ldapmodify -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -y "$LDAP_PWFILE" \
    >/dev/null || die "ldapmodify (agentNotAfter) failed"
python3 "$WATCH" expire "$W/ex.watch" "$W/ex.ms" || die "watcher failed"
read -r EXP_P50 EXP_P99 EXP_MAX EXP_N < <(pctl "$W/ex.ms")
EXP_TIMEOUT=$(grep -c timeout "$W/ex.ms")

# ---- 3. CPU with N_LOAD sessions and RATE changes/s ------------------------
say "opening $N_LOAD sessions ..." >&2
t0=$(date +%s%N)
open_sessions ld "$N_LOAD"
LOAD_OPEN_S=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }')
sleep 3
LOAD_REG=$(ls "$W/sessions" | wc -l)
say "idle for 10 s, then $RATE changes/s for $LOAD_S s ..." >&2
c0=$(cpu "$EPID")
sleep 10
IDLE_CPU=$(awk -v a="$c0" -v b="$(cpu "$EPID")" -v t="$TCK" \
    'BEGIN { printf "%.2f", (b - a) / t / 10 * 100 }')
SLAPD_PID=$AGENTID_TEST_LDAP_PID
python3 "$WATCH" load "$RATE" "$LOAD_S" "$EPID,$DPID,$SLAPD_PID" \
    "$W/load.out" $(seq -f ld-%g "$N_LOAD") || die "watcher failed"
LOAD_SECS=$(awk '$1 == "seconds" { print $2 }' "$W/load.out")
LOAD_CHANGES=$(awk '$1 == "changes" { print $2 }' "$W/load.out")
pct() { awk -v p="$1" -v s="$LOAD_SECS" '$1 == p { printf "%.1f", $2 / s * 100 }' \
    "$W/load.out"; }
cpus() { awk -v p="$1" '$1 == p { print $2 }' "$W/load.out"; }
E_CPU=$(pct "$EPID") E_CPU_S=$(cpus "$EPID")
D_CPU=$(pct "$DPID") S_CPU=$(pct "$SLAPD_PID")
E_RSS=$(awk '/^VmRSS/ { print $2 }' "/proc/$EPID/status")
LOAD_ALIVE=0
while read -r u l c e; do
	kill -0 "$c" 2>/dev/null && kill -0 "$e" 2>/dev/null &&
	    LOAD_ALIVE=$((LOAD_ALIVE + 1))
done <"$W/ld.sessions"
sleep 2
say "revoking $N_REV_LOAD of them one at a time ..." >&2
head -n "$N_REV_LOAD" "$W/ld.sessions" >"$W/ld-rev.sessions"
python3 "$WATCH" revoke "$W/ld-rev.sessions" "$W/ld-rev.ms" || die "watcher failed"
read -r LREV_P50 LREV_P99 LREV_MAX LREV_N < <(pctl "$W/ld-rev.ms")
LREV_LEFT=$(grep -c 'left=' "$W/ld-rev.ms")
TERM_N=$(grep -c '"event":"session_terminate"' "$D/audit.log")
T_RUN=$(($(date +%s) - T_START))
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table --------------------------------------------------------------
TS=$(date -u +%Y%m%dT%H%M%SZ)
MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
say ""
say "## \`bench/enforce.sh$([ "$QUICK" = 1 ] && echo ' --quick')\` — runtime enforcement, $(date -u +%Y-%m-%d)"
say ""
say "Machine: $(nproc) cores ($MODEL), $(uname -r); load average $LOAD0 at start, $LOAD1 at end; measured in $T_RUN s."
say "Sessions: opened through the real PAM stack (bench/enforce_session: a fresh kernel audit session, pam_agent account + session registering it, a leader that stays, \`sleep\` and a setsid + double-fork escaper), not sshd logins. agentidd (syncrepl from slapd on loopback) and agentid-enforcer run as daemons; the revocation and change writes go through one long-running ldapmodify."
say ""
say "| figure | value |"
say "|---|---|"
say "| revocation → every process of the session gone, $N_REV sessions open (ms) | p50 $REV_P50 / p99 $REV_P99 / max $REV_MAX over $REV_N$([ "$REV_LEFT" != 0 ] && echo ", $REV_LEFT with processes left after 30 s") |"
say "| revocation → session gone, $N_LOAD sessions open (ms) | p50 $LREV_P50 / p99 $LREV_P99 / max $LREV_MAX over $LREV_N$([ "$LREV_LEFT" != 0 ] && echo ", $LREV_LEFT with processes left") |"
say "| agentNotAfter → session gone, clock_skew 0 (ms after notAfter; the engine's \`expired\` starts at notAfter + 1 s) | p50 $EXP_P50 / p99 $EXP_P99 / max $EXP_MAX over $EXP_N$([ "$EXP_TIMEOUT" != 0 ] && echo ", $EXP_TIMEOUT not ended within 30 s") |"
say "| enforcer CPU, $LOAD_REG sessions registered, no change (10 s) | $IDLE_CPU % of one core |"
say "| enforcer CPU, $LOAD_REG sessions, $LOAD_CHANGES agentNotAfter changes in $LOAD_SECS s | $E_CPU % of one core ($E_CPU_S s user+sys) |"
say "| beside it: agentidd / slapd CPU | $D_CPU % / $S_CPU % |"
say "| enforcer RSS after the load | $(awk -v k="$E_RSS" 'BEGIN { printf "%.1f", k / 1024 }') MiB |"
say "| sessions of the load alive after it (none was denied) | $LOAD_ALIVE of $N_LOAD |"
say "| opening $N_REV sessions (50 in parallel) / $N_LOAD sessions | $OPEN_MS ms / $LOAD_OPEN_S s$([ "$OPEN_RETRIES" != 0 ] && echo "; $OPEN_RETRIES opens refused and tried again") |"
say ""
say "Each revocation is written, then timed until the leader, the command and the escaper are all gone (polled every 1 ms); agentidd batches changes arriving within 50 ms into one replica write, and on each write the enforcer decides again the sessions whose chain a changed entry names (every session each heartbeat and at a new base). session_terminate records written: $TERM_N."
} | tee "$W/table.md"

# ---- JSON -------------------------------------------------------------------
mkdir -p "$src/bench/results"
cp "$W/table.md" "$src/bench/results/enforce-$TS.md"
JSON=$src/bench/results/enforce-$TS.json
num() { case $1 in ''|*[!0-9.]*) printf null ;; *) printf '%s' "$1" ;; esac; }
{
	printf '{\n  "command": "bench/enforce.sh%s",\n  "date": "%s",\n' \
	    "$([ "$QUICK" = 1 ] && echo ' --quick')" "$TS"
	printf '  "machine": {"nproc": %d, "model": "%s", "kernel": "%s", "load_start": "%s", "load_end": "%s"},\n' \
	    "$(nproc)" "${MODEL//\"/}" "$(uname -r)" "$LOAD0" "$LOAD1"
	printf '  "sessions": "real PAM stack (bench/enforce_session), not sshd", "open_retries": %d,\n' "$OPEN_RETRIES"
	printf '  "revocation_ms": {"sessions_open": %d, "p50": %s, "p99": %s, "max": %s, "n": %s, "left": %s},\n' \
	    "$N_REV" "$(num "$REV_P50")" "$(num "$REV_P99")" "$(num "$REV_MAX")" "$(num "$REV_N")" "$(num "$REV_LEFT")"
	printf '  "revocation_loaded_ms": {"sessions_open": %d, "p50": %s, "p99": %s, "max": %s, "n": %s, "left": %s},\n' \
	    "$N_LOAD" "$(num "$LREV_P50")" "$(num "$LREV_P99")" "$(num "$LREV_MAX")" "$(num "$LREV_N")" "$(num "$LREV_LEFT")"
	printf '  "expiry_ms_after_not_after": {"clock_skew": 0, "p50": %s, "p99": %s, "max": %s, "n": %s, "timeouts": %s},\n' \
	    "$(num "$EXP_P50")" "$(num "$EXP_P99")" "$(num "$EXP_MAX")" "$(num "$EXP_N")" "$(num "$EXP_TIMEOUT")"
	printf '  "load": {"sessions": %s, "changes": %s, "seconds": %s, "rate": %d, "enforcer_cpu_pct": %s, "enforcer_cpu_idle_pct": %s, "agentidd_cpu_pct": %s, "slapd_cpu_pct": %s, "enforcer_rss_kb": %s, "alive_after": %s}\n}\n' \
	    "$(num "$LOAD_REG")" "$(num "$LOAD_CHANGES")" "$(num "$LOAD_SECS")" "$RATE" \
	    "$(num "$E_CPU")" "$(num "$IDLE_CPU")" "$(num "$D_CPU")" "$(num "$S_CPU")" \
	    "$(num "$E_RSS")" "$(num "$LOAD_ALIVE")"
} >"$JSON"
say "" >&2
say "JSON: $JSON" >&2
exit 0

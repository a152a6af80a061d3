#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_nss_getent.sh - libnss_agent.so.2 through glibc: getent passwd/group by
# name and id, enumeration, id (initgroups), nologin for chains that are not
# valid now, min_uid, missing/corrupt/replaced replica.
set -u
. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
nss_setup
trap 'rm -rf "$NSS_TMP"' EXIT
GEN=${top_builddir:-.}/tests/nss/gen_replica
R=$NSS_TMP/agents.cdb
FAILS=0 CHECKS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# expect WANTED_OUTPUT WANTED_EXIT CMD...: runs CMD in the namespace.
expect() {
	local want=$1 rc=$2 out got
	shift 2
	CHECKS=$((CHECKS + 1))
	out=$(nss_run "$R" "$@" 2>"$NSS_TMP/err")
	got=$?
	if [ "$got" != "$rc" ] || [ "$out" != "$want" ]; then
		fail "$*: exit $got (wanted $rc), output:"$'\n'"$out"$'\n'"wanted:"$'\n'"$want"$'\n'"$(cat "$NSS_TMP/err")"
		return 1
	fi
	echo "ok: $*"
}

"$GEN" --fixture "$R" || { echo "gen_replica failed" >&2; exit 1; }
[ "$(stat -c %a "$R")" = 644 ] || fail "replica mode $(stat -c %a "$R"), wanted 644"

ALICE="alice-bot:*:20001:20001:Alice's build bot:/home/alice-bot:/bin/bash"
expect "$ALICE" 0 getent passwd alice-bot
expect "$ALICE" 0 getent passwd 20001
expect "" 2 getent passwd no-such-bot
expect "" 2 getent passwd 20999
expect "root:x:0:0:root:/root:/bin/bash" 0 getent passwd root
for u in expired-bot suspended-bot revoked-bot orphan-bot future-bot; do
	out=$(nss_run "$R" getent passwd "$u")
	CHECKS=$((CHECKS + 1))
	case $out in
	"$u:"*":/home/$u:/usr/sbin/nologin") echo "ok: $u has the nologin shell" ;;
	*) fail "$u: wanted the nologin shell, got: $out" ;;
	esac
done
expect "skew-bot:*:20008:20008:expired 30 s ago, inside clock_skew:/home/skew-bot:/bin/sh" \
    0 getent passwd skew-bot
long=$(nss_run "$R" getent passwd long-bot)
CHECKS=$((CHECKS + 1))
[ ${#long} -eq $((8 + 3 + 5 + 1 + 5 + 1 + 1000 + 1 + 300 + 1 + 8)) ] &&
    [ "${long%:/bin/zsh}" != "$long" ] && echo "ok: long-bot (${#long} bytes)" ||
    fail "long-bot: got ${#long} bytes: $long"

expect "agents:*:30001:alice-bot,expired-bot,root,long-bot" 0 getent group agents
expect "agents:*:30001:alice-bot,expired-bot,root,long-bot" 0 getent group 30001
expect "empty:*:30003:" 0 getent group empty
big=$(nss_run "$R" getent group 30002)
CHECKS=$((CHECKS + 1))
n=$(printf '%s\n' "${big##*:}" | awk -F, '{print NF}')
[ "$n" = 200 ] && echo "ok: big-team has 200 members" || fail "big-team: $n members"

# enumeration: files first, then every agent and group of the replica
CHECKS=$((CHECKS + 1))
got=$(nss_run "$R" getent passwd | awk -F: '$3 >= 20000 && $3 < 21000 {print $1}' | tr '\n' ' ')
[ "$got" = "alice-bot expired-bot suspended-bot revoked-bot orphan-bot future-bot skew-bot long-bot " ] &&
    echo "ok: getent passwd enumerates the agents in order" || fail "enumeration: $got"
CHECKS=$((CHECKS + 1))
got=$(nss_run "$R" getent group | awk -F: '$3 >= 30000 && $3 < 40000 {print $1}' | tr '\n' ' ')
[ "$got" = "agents big-team empty " ] && echo "ok: getent group enumerates" ||
    fail "group enumeration: $got"

# initgroups: the agent's groups; root is listed in "agents" but is no agent
expect "20001 30001" 0 id -G alice-bot
expect "20007 30001 30002" 0 id -G long-bot
expect "$(id -G root)" 0 id -G root

# min_uid is enforced by the module too, from the replica's header
cp "$R" "$NSS_TMP/orig.cdb"
"$GEN" --tamper min_uid=20005 "$R"
expect "" 2 getent passwd alice-bot
expect "" 2 getent passwd 20001
expect "agents:*:30001:alice-bot,expired-bot,root,long-bot" 0 getent group agents
expect "future-bot:*:20006:20006:not yet valid:/home/future-bot:/usr/sbin/nologin" 0 getent passwd future-bot
cp "$NSS_TMP/orig.cdb" "$R"

# replaced replica (rename, as sync does): a new process sees the new file
"$GEN" --users 3 --tag second "$NSS_TMP/second.cdb"
mv "$NSS_TMP/second.cdb" "$R"
expect "agent-0000002:*:100001:100001:Agent 2 of owner-1 second:/home/second/agent-0000002:/bin/bash" \
    0 getent passwd agent-0000002
expect "" 2 getent passwd alice-bot

# missing or corrupt replica: the module is unavailable, files still work
rm -f "$R"
expect "" 2 getent passwd alice-bot
expect "root:x:0:0:root:/root:/bin/bash" 0 getent passwd root
expect "$(id -G root)" 0 id -G root
for cut in 0 100 2048 3000 $(( $(stat -c %s "$NSS_TMP/orig.cdb") - 1 )); do
	head -c "$cut" "$NSS_TMP/orig.cdb" >"$R"
	expect "" 2 getent passwd alice-bot
	expect "" 2 getent group agents
done
cp "$NSS_TMP/orig.cdb" "$R"
"$GEN" --tamper magic "$R"
expect "" 2 getent passwd alice-bot
head -c 5000 /dev/urandom >"$R"
expect "" 2 getent passwd alice-bot
expect "" 2 getent passwd 20001

echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]

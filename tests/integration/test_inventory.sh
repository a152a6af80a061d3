#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_inventory.sh - what a person is accountable for, through delegation:
# "agentid list --owner DN" (every agent whose chain passes through DN, at
# any depth, and nothing else; DNs compared as the chain builder does, so
# case and spaces do not matter) and "agentid show --tree USER-or-DN" (the
# same agents as a tree, each with its status, effective notAfter and the
# engine's note; a revoked orchestrator's delegates say so), in words
# (escaped) and JSON (nested).
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

slapd_start || exit 1
D=$AGENTID_TEST_LDAP_DIR
B=$AGENTID_TEST_LDAP_BASE
# alice: orch (sub1 (leaf), sub2), solo, and old-orch (revoked) with sub3;
# bob: bob-bot. leaf's notAfter is later than orch's: its effective one is
# orch's.
agent() { # agent UID OWNER-DN NOTAFTER [STATUS]
	printf '%s\n' "dn: uid=$1,ou=agents,@BASE@" "objectClass: account" \
	    "objectClass: agentIdentity" "uid: $1" "agentOwner: $2" \
	    "agentNotAfter: $3" "agentStatus: ${4:-active}" ""
}
{
	printf '%s\n' "dn: ou=people,@BASE@" "objectClass: organizationalUnit" \
	    "ou: people" "" "dn: ou=agents,@BASE@" \
	    "objectClass: organizationalUnit" "ou: agents" ""
	for p in alice bob; do
		printf '%s\n' "dn: uid=$p,ou=people,@BASE@" \
		    "objectClass: inetOrgPerson" "uid: $p" "cn: $p" "sn: $p" ""
	done
	agent orch "uid=alice,ou=people,@BASE@" "@TIME(+10d)@"
	agent sub1 "uid=orch,ou=agents,@BASE@" "@TIME(+5d)@"
	agent sub2 "uid=orch,ou=agents,@BASE@" "@TIME(+5d)@"
	agent leaf "uid=sub1,ou=agents,@BASE@" "@TIME(+20d)@"
	agent solo "uid=alice,ou=people,@BASE@" "@TIME(+3d)@"
	agent old-orch "uid=alice,ou=people,@BASE@" "@TIME(+10d)@" revoked
	agent sub3 "uid=old-orch,ou=agents,@BASE@" "@TIME(+5d)@"
	agent bob-bot "uid=bob,ou=people,@BASE@" "@TIME(+5d)@"
} >"$D/inv.ldif"
slapd_load "$D/inv.ldif" || exit 1
C="$D/agentid.conf"
slapd_write_conf "$C"
ALICE="uid=alice,ou=people,$B"

# expect_owner "WANTED UIDS" DN: "list --owner DN" lists exactly those.
expect_owner() {
	local want=$1 got
	CHECKS=$((CHECKS + 1))
	got=$("$AGENTID" --config "$C" list --owner "$2" | awk 'NR > 1 { print $1 }' |
	    sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		echo "ok: list --owner $2 -> $got"
	else
		fail "list --owner $2: got '$got', wanted '$want'"
	fi
}

expect_owner "leaf old-orch orch solo sub1 sub2 sub3" "$ALICE"
# the one DN comparison: case and spaces around separators do not matter
expect_owner "leaf old-orch orch solo sub1 sub2 sub3" "UID=Alice, OU=People, $B"
expect_owner "leaf sub1 sub2" "uid=orch,ou=agents,$B"
expect_owner "leaf" "uid=sub1,ou=agents,$B"
expect_owner "" "uid=leaf,ou=agents,$B"
expect_owner "bob-bot" "uid=bob,ou=people,$B"
expect_owner "" "uid=nobody,ou=people,$B"
# with other selections: both must hold
expect_owner "sub3" "uid=old-orch,ou=agents,$B"
CHECKS=$((CHECKS + 1))
got=$("$AGENTID" --config "$C" list --owner "$ALICE" --expiring 4d |
    awk 'NR > 1 { print $1 }' | tr '\n' ' ')
[ "$got" = "solo " ] || fail "list --owner alice --expiring 4d: '$got'"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" list --owner "$ALICE" --json)
n=$(printf '%s' "$out" | grep -o '"uid":' | wc -l)
[ "$n" -eq 7 ] || fail "list --owner --json has $n agents: $out"
CHECKS=$((CHECKS + 1))
"$AGENTID" --config "$C" list --owner alice >/dev/null 2>&1
[ $? -eq 2 ] || fail "list --owner with no DN accepted"

# --- show --tree: by uid (a person), by DN, JSON --------------------------
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" show --tree alice)
rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || fail "show --tree alice: exit $rc"
want="$ALICE (human, active)
|- old-orch  revoked  not after * revoked — uid=old-orch,ou=agents,$B is revoked
|  \`- sub3  active  not after * revoked — uid=old-orch,ou=agents,$B (delegator of uid=sub3,ou=agents,$B) is revoked
|- orch  active  not after *  ok
|  |- sub1  active  not after *  ok
|  |  \`- leaf  active  not after *  ok
|  \`- sub2  active  not after *  ok
\`- solo  active  not after *  ok"
# shellcheck disable=SC2053
[[ $out == $want ]] || fail "show --tree alice: wanted the shape
$want"
# leaf's effective notAfter is orch's (the earliest of its chain), sub1's
# being earlier still: 5 days, not its own 20
CHECKS=$((CHECKS + 1))
leaf_na=$(printf '%s\n' "$out" | sed -n 's/.*- leaf .*not after \(.*\)  ok$/\1/p')
sub1_na=$(printf '%s\n' "$out" | sed -n 's/.*- sub1 .*not after \(.*\)  ok$/\1/p')
if [ -z "$leaf_na" ] || [ "$leaf_na" != "$sub1_na" ]; then
	fail "leaf's effective notAfter '$leaf_na' is not sub1's '$sub1_na'"
fi
CHECKS=$((CHECKS + 1))
out2=$("$AGENTID" --config "$C" show --tree "$ALICE")
[ "$out2" = "$out" ] || fail "show --tree by DN differs from by uid: $out2"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" show --tree orch)
case $out in
"uid=orch,ou=agents,$B (agent orch, active)
|- sub1 "*"
|  \`- leaf "*"
\`- sub2 "*) echo "ok: show --tree orch" ;;
*) fail "show --tree orch: $out" ;;
esac
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" show --tree alice --json)
case $out in
'{"dn":"uid=alice,ou=people,'*'","uid":"alice","agent":false,"status":"active","agents":[{"uid":"old-orch",'*'"reason":"revoked",'*'"agents":[{"uid":"sub3",'*'"reason":"revoked",'*'"agents":[]}]},{"uid":"orch",'*'"reason":"ok","note":"ok","agents":[{"uid":"sub1",'*'"agents":[{"uid":"leaf",'*'"agents":[]}]},{"uid":"sub2",'*'},{"uid":"solo",'*'"agents":[]}]}')
	echo "ok: show --tree --json nests" ;;
*) fail "show --tree alice --json: $out" ;;
esac
# nothing below: the root alone; no entry: exit 1; a terminal escape in
# the DN given is printed escaped
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" show --tree leaf)
[ "$out" = "uid=leaf,ou=agents,$B (no agents)" ] || fail "show --tree leaf: $out"
CHECKS=$((CHECKS + 1))
"$AGENTID" --config "$C" show --tree nosuch >/dev/null
[ $? -eq 1 ] || fail "show --tree nosuch did not exit 1"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" show --tree $'uid=x\e[2J,dc=example,dc=org')
case $out in
*$'\e'*) fail "show --tree printed an escape character raw" ;;
'uid=x\x1b[2J,dc=example,dc=org (no agents)') echo "ok: show --tree escapes" ;;
*) fail "show --tree escape: $out" ;;
esac

finish

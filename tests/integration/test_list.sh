#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_list.sh - "agentid list" and "agentid show" on known data:
# --expiring 7d, --expired, --orphaned (alone and together), --json, and
# paged results past slapd's size limit of 500 entries.
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

slapd_start || exit 1
slapd_load "$top_srcdir/tests/integration/list.ldif" || exit 1
D=$AGENTID_TEST_LDAP_DIR
FILL=600
for i in $(seq 1 $FILL); do
	printf '%s\n' "dn: uid=fill-$i,ou=agents,@BASE@" "objectClass: account" \
	    "objectClass: agentIdentity" "uid: fill-$i" \
	    "agentOwner: uid=alice,ou=people,@BASE@" \
	    "agentNotAfter: @TIME(+60d)@" ""
done >"$D/fill.ldif"
slapd_load "$D/fill.ldif" || exit 1
C="$D/agentid.conf"
slapd_write_conf "$C" "owner_active_filter (employeeType=staff)"

# list_uids ARGS: the uids "agentid list ARGS" prints, sorted, one a line.
list_uids() {
	"$AGENTID" --config "$C" list "$@" | awk 'NR > 1 { print $1 }' | sort
}

# expect_list "WANTED UIDS" ARGS: the selection must be exactly those.
expect_list() {
	local want=$1 got
	shift
	CHECKS=$((CHECKS + 1))
	got=$(list_uids "$@" | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		echo "ok: list $* -> $got"
	else
		fail "list $*: got '$got', wanted '$want'"
	fi
}

expect_list "soon-bot" --expiring 7d
expect_list "gone-bot later-bot lost-bot orphan-bot soon-bot" --expiring 31d
expect_list "old-bot" --expired
expect_list "lost-bot orphan-bot twin-a" --orphaned
expect_list "old-bot soon-bot" --expiring 7d --expired
expect_list "lost-bot old-bot orphan-bot soon-bot twin-a" --expired --orphaned --expiring 7d

# everything: the 6 named agents and every filler (more than one page and
# more than the size limit), never the people
CHECKS=$((CHECKS + 1))
all=$(list_uids)
n=$(printf '%s\n' "$all" | grep -c .)
if [ "$n" -eq $((FILL + 7)) ]; then
	echo "ok: list shows $n agents (paged past the size limit)"
else
	fail "list shows $n agents, wanted $((FILL + 7))"
fi
for u in soon-bot later-bot old-bot lost-bot orphan-bot gone-bot fill-1 fill-$FILL; do
	printf '%s\n' "$all" | grep -qx "$u" || fail "list lacks $u"
done
printf '%s\n' "$all" | grep -qx carol && fail "list shows a person"

# the note column says why
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" list --orphaned --expired)
case $out in
*lost-bot*owner_missing*) ;; *) fail "list note for lost-bot: $out" ;;
esac
case $out in
*orphan-bot*owner_inactive*) ;; *) fail "list note for orphan-bot: $out" ;;
esac
case $out in
*old-bot*expired*) ;; *) fail "list note for old-bot: $out" ;;
esac
case $out in
*twin-a*ambiguous_uid*) ;; *) fail "list note for the two-uid entry: $out" ;;
esac

# JSON: an array of objects, one per agent
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" list --expiring 7d --json)
case $out in
'[{"uid":"soon-bot","dn":"uid=soon-bot,ou=agents,'*'"owner":"uid=alice,'*'"expired":false,"orphaned":false,"ambiguous":false}]') echo "ok: list --json" ;;
*) fail "list --expiring 7d --json: $out" ;;
esac
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$C" list --json)
n=$(printf '%s' "$out" | grep -o '"uid":' | wc -l)
[ "$n" -eq $((FILL + 7)) ] || fail "list --json has $n agents"

# bad selections are errors
CHECKS=$((CHECKS + 1))
"$AGENTID" --config "$C" list --expiring soon >/dev/null 2>&1
[ $? -eq 2 ] || fail "list --expiring soon accepted"
"$AGENTID" --config "$C" list extra >/dev/null 2>&1
[ $? -eq 2 ] || fail "list with an operand accepted"

# show: the record and the chain; a person is not an agent (exit 1)
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" show soon-bot --config "$C")
rc=$?
[ $rc -eq 0 ] || fail "show soon-bot: exit $rc"
case $out in
"uid=soon-bot,ou=agents,"*"owned by uid=alice,ou=people,"*) echo "ok: show" ;;
*) fail "show soon-bot: $out" ;;
esac
out=$("$AGENTID" show soon-bot --json --config "$C")
case $out in
*'"uid_number":31001'*'"chain":[{"dn":"uid=soon-bot,'*'{"dn":"uid=alice,ou=people,'*) ;;
*) fail "show --json soon-bot: $out" ;;
esac
"$AGENTID" --config "$C" show carol >/dev/null
[ $? -eq 1 ] || fail "show carol (a person) did not exit 1"
"$AGENTID" --config "$C" show '*' >/dev/null
[ $? -eq 1 ] || fail "show '*' did not exit 1"

# list against no directory: exit 2
slapd_write_conf "$D/down.conf" "uri ldap://127.0.0.1:1"
CHECKS=$((CHECKS + 1))
"$AGENTID" --config "$D/down.conf" list >/dev/null 2>&1
[ $? -eq 2 ] || fail "list with the directory down did not exit 2"

finish

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_lifecycle.sh - agentid create, narrow, renew, suspend, resume, revoke
# and delete against a private slapd, written as its root DN: the happy
# paths, every refusal rule (exit 1, the rule named, a deny audited), a
# sub-agent that tries to exceed its orchestrator (scope and lifetime),
# --dry-run changing nothing, the revocation cascade seen by agentid check,
# and the admin lines of the audit trail (with their operator).
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

slapd_start || exit 1
D=$AGENTID_TEST_LDAP_DIR
B=$AGENTID_TEST_LDAP_BASE
cat >"$D/lc.ldif" <<'LDIF'
dn: ou=people,@BASE@
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,@BASE@
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Example

dn: uid=cyc-a,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: cyc-a
cn: cyc-a
uidNumber: 46001
gidNumber: 46001
homeDirectory: /home/cyc-a
agentOwner: uid=cyc-b,@BASE@
agentNotAfter: @TIME(+30d)@

dn: uid=cyc-b,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: cyc-b
cn: cyc-b
uidNumber: 46002
gidNumber: 46002
homeDirectory: /home/cyc-b
agentOwner: uid=cyc-a,@BASE@
agentNotAfter: @TIME(+30d)@
LDIF
slapd_load "$D/lc.ldif" || exit 1
C="$D/agentid.conf"
# 65534 is nobody in /etc/passwd: the range's first free number is 65535
slapd_write_conf "$C" "uid_range 65534-65540" "max_delegation_depth 2"
PW="$D/admin.pw"
printf '%s\n' "$AGENTID_TEST_LDAP_ROOTPW" >"$PW"
chmod 0600 "$PW"
ADMIN=(--bind-dn "$AGENTID_TEST_LDAP_ROOTDN" --password-file "$PW")
ALICE="uid=alice,ou=people,$B"
LOG="$D/audit.log"

# run RC ARGS...: "agentid --config C ARGS" exits RC; OUT and ERR kept.
run() {
	local rc=$1 got
	shift
	CHECKS=$((CHECKS + 1))
	OUT=$("$AGENTID" --config "$C" "$@" 2>"$D/err")
	got=$?
	ERR=$(cat "$D/err")
	if [ "$got" = "$rc" ]; then
		echo "ok: $* -> exit $rc"
		return 0
	fi
	fail "agentid $*: exit $got (wanted $rc); stdout: $OUT; stderr: $ERR"
	return 1
}

# refused RULE ARGS...: exit 1 naming RULE, and a deny line for it in the trail.
refused() {
	local rule=$1
	shift
	run 1 "$@" || return
	case $ERR in
	*"refused: $rule "*) ;;
	*) fail "agentid $*: wanted rule $rule, got: $ERR" ;;
	esac
	last_audit '"event":"admin"' '"decision":"deny"' "\"reason\":\"$rule\"" \
	    "\"operator\":\"$AGENTID_TEST_LDAP_ROOTDN\""
}

# last_audit PATTERN...: the trail's last line holds every PATTERN.
last_audit() {
	local line p
	line=$(tail -n 1 "$LOG" 2>/dev/null)
	for p in "$@"; do
		case $line in
		*"$p"*) ;;
		*) fail "last audit line lacks $p: $line" ;;
		esac
	done
}

# field USER NAME: a field of "agentid show USER --json"'s first record.
show_json() {
	"$AGENTID" --config "$C" show --json "$1" 2>/dev/null
}

# --- credentials ---------------------------------------------------------
run 2 create orch --owner "$ALICE" --for 30d --scope 'host:build-*'
case $ERR in *"operator's own credentials"*) ;; *) fail "no-credential message: $ERR" ;; esac
chmod 0644 "$PW"
run 2 create orch --owner "$ALICE" --for 30d "${ADMIN[@]}"
chmod 0600 "$PW"
run 2 create orch --owner "$ALICE" --for 30d --bind-dn "$AGENTID_TEST_LDAP_ROOTDN" \
    --password-file "$PW" --sasl-external
run 2 suspend orch --owner "$ALICE" "${ADMIN[@]}"   # not an option of suspend
run 2 create orch --owner "$ALICE" --for 30d --scope 'bogus:x' "${ADMIN[@]}"

# --- --dry-run prints the LDIF and changes nothing -----------------------
lines_before=$(cat "$LOG" 2>/dev/null | wc -l)
run 0 create orch --owner "$ALICE" --for 30d --scope 'host:build-*' \
    --scope service:sshd --scope from:10.0.0.0/8 --description 'orch estrator' \
    --dry-run "${ADMIN[@]}"
for want in "dn: uid=orch,$B" "changetype: add" "objectClass: agentIdentity" \
    "uidNumber: 65535" "agentOwner: $ALICE" "agentScope: host:build-*" \
    "agentScope: from:10.0.0.0/8" "agentStatus: active" "description: orch estrator"; do
	case $OUT in *"$want"*) ;; *) fail "dry-run LDIF lacks '$want': $OUT" ;; esac
done
# the LDIF is what ldapmodify takes: it parses (-n: no change is made)
if command -v ldapmodify >/dev/null; then
	CHECKS=$((CHECKS + 1))
	printf '%s\n' "$OUT" | ldapmodify -n -H "$AGENTID_TEST_LDAP_LDAPI_URI" \
	    -x -D "$AGENTID_TEST_LDAP_ROOTDN" -w "$AGENTID_TEST_LDAP_ROOTPW" \
	    >/dev/null 2>&1 || fail "ldapmodify -n refuses the dry-run LDIF"
fi
run 1 show orch
lines_after=$(cat "$LOG" 2>/dev/null | wc -l)
CHECKS=$((CHECKS + 1))
[ "$lines_before" = "$lines_after" ] || fail "--dry-run wrote to the audit trail"
# a dry run needs no operator credentials (it reads with the host's)
run 0 create orch --owner "$ALICE" --for 30d --dry-run

# --- create: the orchestrator and a sub-agent ----------------------------
run 0 create orch --owner "$ALICE" --for 30d --scope 'host:build-*' \
    --scope service:sshd --scope from:10.0.0.0/8 "${ADMIN[@]}"
last_audit '"event":"admin"' '"service":"create"' '"user":"orch"' \
    '"decision":"allow"' "\"operator\":\"$AGENTID_TEST_LDAP_ROOTDN\"" \
    "\"owner\":\"$ALICE\""
run 0 show orch
ORCH="uid=orch,$B"
# service:ssh* is not provably within service:sshd
refused scope_not_covered create sub --owner "$ORCH" --for 10d \
    --scope host:build-7 --scope 'service:ssh*' "${ADMIN[@]}"
case $ERR in *"cannot prove coverage"*) ;; *) fail "wanted 'cannot prove coverage': $ERR" ;; esac
run 0 create sub --owner "$ORCH" --for 10d --scope host:build-7 \
    --scope service:sshd --scope from:10.1.0.0/16 --gid-number 5000 "${ADMIN[@]}"
OUT=$(show_json sub)
case $OUT in *'"uid_number":65536'*'"gid_number":5000'*) ;;
*) fail "sub: wanted uidNumber 65536 and gidNumber 5000: $OUT" ;; esac
expect_check "$C" 0 ok sub --service sshd --host build-7 --rhost 10.1.2.3

# --- a sub-agent that tries to exceed its orchestrator --------------------
refused scope_not_covered create sub2 --owner "$ORCH" --for 5d --scope 'host:*' "${ADMIN[@]}"
refused scope_not_covered create sub2 --owner "$ORCH" --for 5d --scope host:web-1 "${ADMIN[@]}"
refused scope_not_covered create sub2 --owner "$ORCH" --for 5d --scope service:su "${ADMIN[@]}"
refused scope_not_covered create sub2 --owner "$ORCH" --for 5d --scope from:192.168.0.0/16 "${ADMIN[@]}"
refused scope_not_covered create sub2 --owner "$ORCH" --for 5d --scope from:10.0.0.0/7 "${ADMIN[@]}"
refused scope_not_covered create sub2 --owner "$ORCH" --for 5d --scope 'host:[bx]uild-1' "${ADMIN[@]}"
case $ERR in *"cannot prove coverage"*) ;; *) fail "wanted 'cannot prove coverage': $ERR" ;; esac
refused exceeds_delegator_lifetime create sub2 --owner "$ORCH" --for 60d "${ADMIN[@]}"
# a glob inside the delegator's glob, a literal address range inside its CIDR
run 0 create sub2 --owner "$ORCH" --for 5d --scope 'host:build-1*' \
    --scope from:10.9.9.9 --dry-run "${ADMIN[@]}"

# --- the other create rules ----------------------------------------------
refused lifetime_exceeds_policy create x1 --owner "$ALICE" --for 100d "${ADMIN[@]}"
refused owner_missing create x1 --owner "uid=nobody,ou=people,$B" --for 1d "${ADMIN[@]}"
refused owner_missing create x1 --owner "ou=people,$B" --for 1d "${ADMIN[@]}"
refused chain_too_deep create x1 --owner "uid=sub,$B" --for 1d "${ADMIN[@]}"
refused chain_cycle create x1 --owner "uid=cyc-a,$B" --for 1d "${ADMIN[@]}"
refused user_exists create orch --owner "$ALICE" --for 1d "${ADMIN[@]}"
refused uid_number_in_use create x1 --owner "$ALICE" --for 1d --uid-number 65535 "${ADMIN[@]}"
refused uid_number_in_use create x1 --owner "$ALICE" --for 1d --uid-number 65534 "${ADMIN[@]}"
run 2 create x1 --owner "$ALICE" "${ADMIN[@]}"   # no notAfter: usage error

# --- narrow ----------------------------------------------------------------
refused narrow_widens narrow sub --scope host:build-8 --scope service:sshd "${ADMIN[@]}"
refused narrow_widens narrow sub --scope host:build-7 --scope service:sshd "${ADMIN[@]}"
case $ERR in *"every from: grant"*) ;; *) fail "narrow: wanted the from: message: $ERR" ;; esac
refused narrow_widens narrow sub --not-after 20991231000000Z "${ADMIN[@]}"
run 0 narrow sub --scope host:build-7 --scope from:10.1.0.0/16 "${ADMIN[@]}"
OUT=$(show_json sub)
case $OUT in '{"dn":"uid=sub,'*'"scope":["host:build-7","from:10.1.0.0/16"],'*) ;;
*) fail "narrow: wanted exactly the kept grants: $OUT" ;; esac
# service is required by default: the agent has none left, so it is denied
expect_check "$C" 1 scope_service sub --service sshd --host build-7 --rhost 10.1.2.3
refused not_an_agent narrow alice --not-after 20200101000000Z "${ADMIN[@]}"

# --- renew -----------------------------------------------------------------
run 0 renew sub --for 20d "${ADMIN[@]}"
refused exceeds_delegator_lifetime renew sub --for 40d "${ADMIN[@]}"
refused lifetime_exceeds_policy renew orch --for 100d "${ADMIN[@]}"
run 0 narrow sub --not-after "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" "${ADMIN[@]}"

# --- suspend, resume ---------------------------------------------------------
run 0 suspend sub "${ADMIN[@]}"
case $(show_json sub) in *'"status":"suspended"'*) ;; *) fail "sub not suspended" ;; esac
last_audit '"service":"suspend"' '"decision":"allow"' '"task":"suspend agentStatus=suspended"'
run 0 resume sub "${ADMIN[@]}"
case $(show_json sub) in *'"status":"active"'*) ;; *) fail "sub not resumed" ;; esac

# --- delete with delegates, revoke cascade -----------------------------------
refused delegates_exist delete orch "${ADMIN[@]}"
run 0 revoke orch "${ADMIN[@]}"
expect_check "$C" 1 revoked sub --service sshd --host build-7 --rhost 10.1.2.3
refused revoked resume orch "${ADMIN[@]}"
refused revoked renew orch --for 1d "${ADMIN[@]}"
refused revoked narrow orch --scope service:sshd "${ADMIN[@]}"
refused revoked create x2 --owner "$ORCH" --for 1d "${ADMIN[@]}"
run 0 delete sub "${ADMIN[@]}"
run 0 delete orch "${ADMIN[@]}"
run 1 show orch

# --- SASL EXTERNAL over ldapi:// (the fixture maps it to the read-only
# reader): the bind works, the server refuses the write, exit 2, audited
# as an error with that operator
slapd_write_conf "$D/ldapi.conf" "uri $AGENTID_TEST_LDAP_LDAPI_URI" \
    "uid_range 65534-65540"
C_SAVE=$C
C="$D/ldapi.conf"
run 2 suspend cyc-a --sasl-external
last_audit '"event":"admin"' '"decision":"error"' "\"operator\":\"$AGENTID_TEST_LDAP_READERDN\""
C=$C_SAVE

# --- concurrent creates with automatic uidNumbers ------------------------
# Each create reads the numbers in use, then adds: run at once, they may
# pick the same one. Every create must succeed with its own number or be
# refused cleanly (uid_number_in_use); never two agents with one number.
slapd_write_conf "$D/race.conf" "uid_range 70000-70099"
# race N PREFIX: N creates at once; checks the outcome.
race() {
	local n=$1 p=$2 i nums dup made=0 pids=()
	for i in $(seq 1 "$n"); do
		"$AGENTID" --config "$D/race.conf" create "$p$i" --owner "$ALICE" \
		    --for 1d "${ADMIN[@]}" >"$D/$p$i.out" 2>"$D/$p$i.err" &
		pids+=($!)
	done
	# only these (slapd is a job of this shell too), each exit kept
	for i in $(seq 1 "$n"); do
		wait "${pids[$((i - 1))]}"
		echo "exit $?" >>"$D/$p$i.err"
	done
	for i in $(seq 1 "$n"); do
		CHECKS=$((CHECKS + 1))
		if grep -q "^create $p$i: done" "$D/$p$i.out"; then
			made=$((made + 1))
		elif ! grep -q "refused: uid_number_in_use " "$D/$p$i.err"; then
			fail "concurrent create $p$i: neither done nor refused cleanly: $(cat "$D/$p$i.out" "$D/$p$i.err" | tr '\n' ' ')"
		fi
	done
	nums=$("$AGENTID" --config "$D/race.conf" list --json | grep -o \
	    "\"uid\":\"$p[0-9]*\",[^}]*\"uid_number\":[0-9]*" |
	    sed 's/.*"uid_number"://' | sort)
	CHECKS=$((CHECKS + 1))
	dup=$(printf '%s\n' "$nums" | uniq -d)
	[ -z "$dup" ] || fail "concurrent creates: uidNumber(s) $dup held by two agents"
	CHECKS=$((CHECKS + 1))
	[ "$(printf '%s\n' "$nums" | grep -c .)" = "$made" ] ||
	    fail "concurrent creates: $made done, but $(printf '%s' "$nums" | grep -c .) $p* agents hold a number"
	[ "$made" -ge 1 ] || fail "concurrent creates: none succeeded"
	echo "ok: $n concurrent creates: $made done, uidNumbers" $nums
}
race 2 duo
race 4 quad

# --- the trail is one intact chain ----------------------------------------
run 0 audit verify "$LOG"

echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" = 0 ]

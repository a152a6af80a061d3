#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_cli.sh - the agentid command line against a private slapd: every
# command takes --config PATH (and --config=PATH) before or after its name,
# the last one given wins, one that is an option's argument or follows "--"
# is not an option, and every command's --help names --config.
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

slapd_start || exit 1
D=$AGENTID_TEST_LDAP_DIR
cat >"$D/cli.ldif" <<'LDIF'
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

dn: uid=cli-bot,ou=agents,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: cli-bot
cn: cli-bot
uidNumber: 45001
gidNumber: 45001
homeDirectory: /home/cli-bot
agentOwner: uid=alice,ou=people,@BASE@
agentNotAfter: @TIME(+30d)@
agentScope: host:*
agentScope: service:cli-test
LDIF
slapd_load "$D/cli.ldif" || exit 1
C="$D/agentid.conf"
slapd_write_conf "$C"
# a path that is no configuration: where it wins, the command must fail
BAD="$D/no-such.conf"

# expect RC PATTERN ARGS...: "agentid ARGS" exits RC and its stdout matches
# the glob PATTERN.
expect() {
	local rc=$1 pat=$2 out got
	shift 2
	CHECKS=$((CHECKS + 1))
	out=$("$AGENTID" "$@" 2>"$D/err")
	got=$?
	if [ "$got" = "$rc" ] && [[ $out == $pat ]]; then
		echo "ok: agentid $* -> exit $rc"
	else
		fail "agentid $*: exit $got (wanted $rc); stdout: $out; stderr: $(cat "$D/err")"
	fi
}

# every_place PATTERN CMD [ARGS...]: CMD ARGS with --config before the
# command, after it, at the end, as --config=PATH, all exit 0 printing
# PATTERN; with the good --config first and a bad one last, exit 2.
every_place() {
	local pat=$1 cmd=$2
	shift 2
	expect 0 "$pat" --config "$C" "$cmd" "$@"
	expect 0 "$pat" --config="$C" "$cmd" "$@"
	expect 0 "$pat" "$cmd" --config "$C" "$@"
	expect 0 "$pat" "$cmd" "$@" --config "$C"
	expect 0 "$pat" "$cmd" "$@" --config="$C"
	expect 2 "" --config "$C" "$cmd" "$@" --config "$BAD"
	expect 2 "" "$cmd" --config "$C" "$@" --config="$BAD"
}

every_place '*"decision":"allow"*"user":"cli-bot"*' \
    check cli-bot --service cli-test --json
every_place 'uid=cli-bot,ou=agents,*owned by uid=alice,*' show cli-bot
every_place 'UID*cli-bot*45001*' list
every_place '*"uid":"cli-bot"*' list --json
every_place "synced 1 agents*$D/agents.cdb" sync
every_place "synced 1 agents*$D/other.cdb" sync --replica "$D/other.cdb"
# the checks above wrote the trail named in $C; without FILE, audit verify
# reads that one
every_place 'intact: *' audit verify
expect 0 'intact: *' audit --config "$C" verify
expect 0 '' audit verify --quiet --config "$C"
every_place 'cli-bot' principals --service cli-test cli-bot
# as sshd's AuthorizedPrincipalsCommand runs it: options, "--", the user
expect 0 'cli-bot' --config "$C" principals --service cli-test -- cli-bot
expect 0 'cli-bot' principals --config "$C" --service cli-test -- cli-bot
expect 0 'cli-bot' principals --service cli-test --config="$C" -- cli-bot

# a --config that is the argument of another option or follows "--" is no
# --config: sshd's %i (the key ID, chosen by whoever signed the
# certificate) must not choose the configuration
expect 0 'cli-bot' --config "$C" principals --service cli-test \
    --key-id "--config=$BAD" -- cli-bot
expect 0 'cli-bot' --config "$C" principals --service cli-test \
    --key-id --config -- cli-bot
expect 0 '' --config "$C" principals --service cli-test -- --config
expect 2 '' --config "$C" check --service --config "$BAD"

# a missing argument is an error, not the next command's business
expect 2 '' --config
expect 2 '' check cli-bot --config
expect 2 '' sync --config
expect 2 '' --config "$C" bogus

# --help of the tool and of every command names --config
for cmd in "" check show list sync audit principals; do
	# shellcheck disable=SC2086
	expect 0 '*--config PATH*' $cmd --help
done
expect 0 '*before or after its name*' --help
expect 0 'agentid *' --version

finish

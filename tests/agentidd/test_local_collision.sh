#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_local_collision.sh - a local account created after agentidd wrote
# the NSS replica takes the name of a served agent (useradd ok-bot): the
# replica must stop serving that agent without waiting for a change in the
# directory. Else glibc's initgroups, which asks every module, hands the
# local ok-bot the directory groups of the agent ok-bot, and uid 41001
# answers as a second "ok-bot" (DESIGN.md: a name a local files entry
# holds is never served). The directory stays quiet all along: agentidd
# must see the local change by itself (each heartbeat). Root only (a copy
# of /etc in a private mount namespace); SKIP otherwise.
set -u
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (private mount namespace, getent through the module)" >&2
	exit 77
fi
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"
agentidd_setup || exit 1
slapd_load "${top_srcdir:-.}/tests/nss/sync.ldif" || { fail "loading"; finish; }
slapd_write_conf "$CONF" "owner_active_filter (employeeType=staff)" \
    "heartbeat 1" "replica $R"
. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
nss_setup
start_daemon
wait_caught_up 30 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; finish; }

groups_of() { nss_run "$R" getent initgroups "$1" 2>/dev/null; }
by_uid() { nss_run "$R" getent passwd "$1" 2>/dev/null; }

groups_of ok-bot | grep -qw 42001 &&
    ok "before: the agent ok-bot is in bots (42001)" ||
    fail "before: getent initgroups ok-bot: $(groups_of ok-bot)"
by_uid 41001 | grep -q '^ok-bot:' &&
    ok "before: uid 41001 is ok-bot" || fail "before: $(by_uid 41001)"

# the administrator creates a local ok-bot (what useradd does: a new file
# renamed over /etc/passwd)
cp /etc/passwd /etc/passwd.new
echo "ok-bot:x:2999:2999:local ok-bot:/home/local-ok-bot:/bin/sh" >>/etc/passwd.new
mv /etc/passwd.new /etc/passwd

# a few heartbeats, no directory change
gone=false
for _ in $(seq 1 100); do
	if ! groups_of ok-bot | grep -qw 42001 &&
	    ! by_uid 41001 | grep -q '^ok-bot:'; then
		gone=true
		break
	fi
	sleep 0.1
done
if $gone; then
	ok "the local ok-bot gets no directory group, uid 41001 is not served"
else
	fail "10 s after useradd ok-bot: initgroups ok-bot: '$(groups_of ok-bot)'," \
	    "uid 41001: '$(by_uid 41001)'"
fi
# the other agents are still served
nss_run "$R" getent passwd helper | grep -q '^helper:' &&
    ok "helper still served" || fail "helper: $(nss_run "$R" getent passwd helper)"
stop_daemon || true
rm -rf "$NSS_TMP"
finish

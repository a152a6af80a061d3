# SPDX-License-Identifier: BSD-2-Clause
# scripts/demo.d/10-nss.sh - agents as local users: "agentid sync" writes the
# replica, libnss_agent.so.2 serves it through glibc (getent, id). Sourced by
# scripts/demo; the lookups run in a private mount namespace with an
# nsswitch.conf bind-mounted over /etc/nsswitch.conf (tests/nss/nss-lib.sh),
# so the host's files are never touched.

say "Agents as local users: agentid sync, then libnss_agent.so.2"
echo "agentid sync copies the agents into a local replica; libnss_agent.so.2"
echo "serves it to every process (no network, no LDAP in the lookup path)."
run agentid sync
REPLICA="$AGENTID_TEST_LDAP_DIR/agents.cdb"

# nss-lib.sh's scratch dir inside the slapd dir: slapd_stop removes it
NSS_TMP="$AGENTID_TEST_LDAP_DIR/nss"
mkdir -p "$NSS_TMP"
# shellcheck source=../../tests/nss/nss-lib.sh
. "$REPO/tests/nss/nss-lib.sh"
demo_nss_why=$(nss_unusable)
[ -n "$demo_nss_why" ] || [ -e "$BUILD/nss_agent/.libs/libnss_agent.so.2" ] ||
	demo_nss_why="$BUILD/nss_agent/.libs/libnss_agent.so.2 is not built"
if [ -n "$demo_nss_why" ]; then
	echo
	echo "(skipped: the getent and id lookups: $demo_nss_why)"
else
	nss_setup "$BUILD/nss_agent/.libs"
	# demo_nss [-c COMMENT] CMD...: shows CMD as typed (and a comment),
	# runs it through libnss_agent
	demo_nss() {
		local note=
		[ "$1" != -c ] || { note="   # $2"; shift 2; }
		printf '\n$ %s%s\n' "$*" "$note"
		nss_run "$REPLICA" "$@"
	}
	echo
	echo "In a private mount namespace, this /etc/nsswitch.conf (the host's is"
	echo "untouched) and the module from the build tree:"
	sed -n 's/^\(passwd\|group\):/    &/p' "$NSS_TMP/nsswitch.conf"
	demo_nss getent passwd deploy-bot
	demo_nss -c "expired; revoked through orch: nologin" \
	    getent passwd old-bot build-bot
	demo_nss id deploy-bot
	demo_nss getent group deployers
fi

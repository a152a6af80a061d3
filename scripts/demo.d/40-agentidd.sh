# SPDX-License-Identifier: BSD-2-Clause
# scripts/demo.d/40-agentidd.sh - agentidd keeps the host's replica within a
# second of the directory over one RFC 4533 connection, and decisions come
# from it: a revocation in the directory reaches the host's next decision in
# well under a second. Sourced by scripts/demo. agentidd drops to the system
# user `agentid` the packages create; here that user exists only in a
# private mount namespace (a copy of /etc/passwd bound over the real one),
# so the host's files are never touched.

say "agentidd: the replica follows the directory (RFC 4533), decisions from it"
demo_agentidd_why=
[ "$(id -u)" = 0 ] || demo_agentidd_why="needs root"
[ -n "$demo_agentidd_why" ] || [ -x "$BUILD/agentidd/agentidd" ] ||
	demo_agentidd_why="$BUILD/agentidd/agentidd is not built"
[ -n "$demo_agentidd_why" ] || [ "${DEMO_SYNCPROV:-0}" = 1 ] ||
	demo_agentidd_why="slapd's syncprov module is missing"
[ -n "$demo_agentidd_why" ] || unshare -m --propagation private true 2>/dev/null ||
	demo_agentidd_why="unshare -m is not permitted here"
if [ -n "$demo_agentidd_why" ]; then
	echo "(skipped: $demo_agentidd_why)"
else
	DEMO_DD="$AGENTID_TEST_LDAP_DIR/agentidd"
	mkdir -p "$DEMO_DD/replica"
	cp /etc/passwd /etc/group "$DEMO_DD/"
	grep -q '^agentid:' /etc/passwd || echo \
	    'agentid:x:64910:64910:agentid demo:/nonexistent:/usr/sbin/nologin' \
	    >>"$DEMO_DD/passwd"
	grep -q '^agentid:' /etc/group || echo 'agentid:x:64910:' >>"$DEMO_DD/group"
	DEMO_DCONF="$DEMO_DD/agentid.conf"
	sed "/^replica /d" "$CONF" >"$DEMO_DCONF"
	echo "replica $DEMO_DD/replica/agents.cdb" >>"$DEMO_DCONF"
	echo "heartbeat 1s" >>"$DEMO_DCONF"
	chmod 0600 "$DEMO_DCONF"
	(umask 077 && printf '%s\n' "$AGENTID_TEST_LDAP_ROOTPW" >"$DEMO_DD/admin.pw")
	export DEMO_DD DEMO_DCONF AGENTID BUILD
	export AGENTID_TEST_LDAP_ROOTDN
	unshare -m --propagation private bash -c '
	mount --bind "$DEMO_DD/passwd" /etc/passwd &&
	    mount --bind "$DEMO_DD/group" /etc/group || exit 1
	dcheck() { "$AGENTID" --config "$DEMO_DCONF" check "$@"; }
	"$BUILD/agentidd/agentidd" --config "$DEMO_DCONF" --foreground \
	    2>"$DEMO_DD/agentidd.log" &
	dpid=$!
	for i in $(seq 100); do
		"$AGENTID" --config "$DEMO_DCONF" status --json 2>/dev/null |
		    grep -q "\"source\":\"replica\"" && break
		sleep 0.1
	done
	printf "\n$ agentidd --config %s &\n" "$DEMO_DCONF"
	printf "\n$ agentid status\n"
	"$AGENTID" --config "$DEMO_DCONF" status
	printf "\n$ agentid check deploy-bot --json   # decided from the replica\n"
	dcheck deploy-bot --json
	printf "\n$ agentid revoke deploy-bot --bind-dn %s --password-file ...\n" \
	    "$AGENTID_TEST_LDAP_ROOTDN"
	t0=$(date +%s%N)
	"$AGENTID" --config "$DEMO_DCONF" revoke deploy-bot \
	    --bind-dn "$AGENTID_TEST_LDAP_ROOTDN" --password-file "$DEMO_DD/admin.pw"
	t1=
	for i in $(seq 500); do
		if ! dcheck deploy-bot >/dev/null 2>&1; then
			t1=$(date +%s%N)
			break
		fi
		sleep 0.01
	done
	printf "\n$ agentid check deploy-bot   # on the host, from the replica\n"
	dcheck deploy-bot
	if [ -n "$t1" ]; then
		echo "(the revocation reached this host'"'"'s decisions $(( (t1 - t0) / 1000000 )) ms after the write)"
	else
		echo "(the revocation did not reach the replica within 5 s: see $DEMO_DD/agentidd.log)"
	fi
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	true'
fi

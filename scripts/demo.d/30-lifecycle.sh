# SPDX-License-Identifier: BSD-2-Clause
# scripts/demo.d/30-lifecycle.sh - an agent's life from the command line:
# alice's orchestrator and a sub-agent under it made with "agentid create"
# (written with the operator's own credentials: here the throwaway slapd's
# root DN), a sub-agent refused a grant wider than its orchestrator's (exit
# 1, the rule named), the tree of everything alice is accountable for, and
# the orchestrator revoked: its sub-agent is denied with it.
#
# Sourced by scripts/demo (needs its AGENTID, CONF, say, run and the slapd
# fixture's variables). Every write and refusal lands in the audit trail as
# event "admin" with the operator.

say "Lifecycle: agentid create, narrow the grants, revoke (with the cascade)"
echo "Writes bind as the operator (--bind-dn and a 0600 password file, or"
echo "--sasl-external over ldapi://), never with the host's read-only account;"
echo "each is checked first: a delegate never holds more than its delegator."
DEMO_PW="$AGENTID_TEST_LDAP_DIR/operator.pw"
(umask 077 && printf '%s\n' "$AGENTID_TEST_LDAP_ROOTPW" >"$DEMO_PW")
DEMO_OP=(--bind-dn "$AGENTID_TEST_LDAP_ROOTDN" --password-file "$DEMO_PW")
DEMO_ALICE="uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE"

# demo_lc ARGS: shows "agentid ARGS" (credentials shortened), runs it, and
# shows the exit code.
demo_lc() {
	local shown=("$@") i
	for i in "${!shown[@]}"; do
		[ "${shown[$i]}" != "$DEMO_PW" ] || shown[i]=operator.pw
	done
	printf '\n$ agentid %s\n' "${shown[*]}"
	"$AGENTID" --config "$CONF" "$@" 2>&1
	echo "(exit $?)"
}

demo_lc create ci-orch --owner "$DEMO_ALICE" --for 7d \
    --scope 'host:build-*.example.org' --scope service:sshd "${DEMO_OP[@]}"
demo_lc create ci-worker --owner "uid=ci-orch,$AGENTID_TEST_LDAP_BASE" \
    --for 2d --scope host:build-3.example.org --scope service:sshd \
    "${DEMO_OP[@]}"
echo
echo "A sub-agent may not hold more than its orchestrator (refused, exit 1):"
demo_lc create ci-rogue --owner "uid=ci-orch,$AGENTID_TEST_LDAP_BASE" \
    --for 2d --scope 'host:*' --scope service:sshd "${DEMO_OP[@]}"
demo_lc create ci-rogue --owner "uid=ci-orch,$AGENTID_TEST_LDAP_BASE" \
    --for 30d --scope host:build-3.example.org --scope service:sshd \
    "${DEMO_OP[@]}"
demo_check ci-worker --host build-3.example.org

say "Everything alice is accountable for: agentid show --tree alice"
run agentid show --tree alice
printf '\n$ agentid list --owner %s\n' "$DEMO_ALICE"
"$AGENTID" --config "$CONF" list --owner "$DEMO_ALICE"

say "Revoking the orchestrator: its sub-agent goes with it"
demo_lc revoke ci-orch "${DEMO_OP[@]}"
demo_check ci-worker --host build-3.example.org
run agentid show --tree ci-orch

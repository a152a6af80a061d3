# SPDX-License-Identifier: BSD-2-Clause
# scripts/demo.d/20-sshd.sh - a real certificate login through sshd: a CA and
# agent keys made with ssh-keygen, certificates carrying the task and the
# human they are for, a private sshd on loopback with TrustedUserCAKeys,
# AuthorizedPrincipalsCommand (agentid principals) and pam_agent.so, agents
# resolved by libnss_agent.so.2; an active agent logs in and sees its
# AGENTID_* variables, a revoked and an expired one are refused, and the
# audit trail shows each decision.
#
# Sourced by scripts/demo (needs its REPO, BUILD, AGENTID, CONF, say and the
# slapd fixture's variables). It runs itself again under
# "unshare -m --propagation private", where tests/e2e/sshd-lib.sh binds the
# demo's nsswitch.conf and pam.d/sshd over the host's for that namespace
# only; a tmpfs on /mnt holds the principals command and one on /home the
# agent's home. sshd is stopped before the namespace ends. Without root or
# unshare the section is skipped.

# Prints $* as a subheading.
demo_step() { printf '\n\033[1m-- %s\033[0m\n' "$*"; }

# demo_cmd 'COMMAND': shows COMMAND as typed, then runs it (our own strings).
demo_cmd() {
	printf '\n$ %s\n' "$1"
	eval "$1" 2>&1
}

# The JSON string value of key $2 in audit line $1 ("-" when absent).
demo_audit_field() {
	local re="\"$2\":\"([^\"]*)\""
	if [[ $1 =~ $re ]]; then
		printf '%s' "${BASH_REMATCH[1]}"
	else
		printf '%s' -
	fi
}

# demo_ssh AGENT COMMAND: logs in as AGENT with its certificate, runs COMMAND.
demo_ssh() {
	local shown=$2
	[[ $shown != *' '* ]] || shown="'$shown'"
	printf '\n$ ssh -F ssh_config -i %s -o CertificateFile=%s-cert.pub %s@web1 %s\n' \
	    "$1" "$1" "$1" "$shown"
	timeout 60 ssh -F ssh_config -i "$1" -o CertificateFile="$1-cert.pub" \
	    "$1@web1" "$2" 2>&1
	echo "(exit $?)"
}

# The ssh_config that names the demo's sshd "web1".
demo_ssh_config() {
	cat <<EOF
Host web1
    HostName 127.0.0.1
    Port $SSHD_PORT
    IdentitiesOnly yes
    IdentityAgent none
    BatchMode yes
    ConnectTimeout 10
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    GlobalKnownHostsFile /dev/null
    LogLevel ERROR
EOF
}

# Prints the audit lines after line $2 of file $1, one compact row each.
demo_audit_table() {
	local line fmt='%-14s %-11s %-9s %-14s %-22s %s\n'
	# shellcheck disable=SC2059
	printf "$fmt" EVENT USER DECISION REASON KEY_ID TASK
	tail -n +"$(($2 + 1))" "$1" | while IFS= read -r line; do
		# shellcheck disable=SC2059
		printf "$fmt" "$(demo_audit_field "$line" event)" \
		    "$(demo_audit_field "$line" user)" \
		    "$(demo_audit_field "$line" decision)" \
		    "$(demo_audit_field "$line" reason)" \
		    "$(demo_audit_field "$line" key_id)" \
		    "$(demo_audit_field "$line" task)"
	done
}

# Everything that needs the private mount namespace.
demo_sshd_inner() {
	local W K CA_FP REPLICA LOG MARK SID out
	# shellcheck source=../../tests/integration/slapd-fixture.sh
	. "$REPO/tests/integration/slapd-fixture.sh" # for _slapd_free_port
	# shellcheck source=../../tests/e2e/sshd-lib.sh
	. "$REPO/tests/e2e/sshd-lib.sh"
	sshd_pick_modules "$BUILD" || return 1
	trap 'sshd_stop' EXIT
	trap 'sshd_stop; exit 130' INT
	trap 'sshd_stop; exit 143' TERM
	W="$AGENTID_TEST_LDAP_DIR/sshd" # slapd_stop removes it
	K="$W/keys"
	REPLICA="$AGENTID_TEST_LDAP_DIR/agents.cdb"
	LOG="$AGENTID_TEST_LDAP_DIR/audit.log"
	mkdir -p "$K" && cd "$K" || return 1
	"$AGENTID" --config "$CONF" sync >/dev/null || return 1

	demo_step "A CA for agent certificates, and a key per agent"
	echo "(on a real site the CA key stays off the host)"
	demo_cmd 'ssh-keygen -q -t ed25519 -N "" -C agent-ca -f agent_ca'
	# shellcheck disable=SC2016 # $a is for the shell demo_cmd runs
	demo_cmd 'for a in deploy-bot build-bot old-bot; do ssh-keygen -q -t ed25519 -N "" -C $a -f $a; done'
	demo_cmd 'ssh-keygen -lf agent_ca.pub'
	CA_FP=$(ssh-keygen -lf agent_ca.pub | awk '{print $2}')

	demo_step "Bind deploy-bot to that CA in the directory"
	echo "(a certificate of any other CA is then refused: cert_mismatch)"
	(umask 077 && printf '%s' "$AGENTID_TEST_LDAP_ROOTPW" >"$W/admin.pw")
	cat >"$W/bind.ldif" <<EOF
dn: uid=deploy-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: modify
add: agentKeyFingerprint
agentKeyFingerprint: $CA_FP
EOF
	printf '\n$ ldapmodify -x -H %s -D %s -y admin.pw <<EOF\n%s\nEOF\n' \
	    "$AGENTID_TEST_LDAP_URI" "$AGENTID_TEST_LDAP_ROOTDN" "$(cat "$W/bind.ldif")"
	out=$(ldapmodify -x -H "$AGENTID_TEST_LDAP_URI" \
	    -D "$AGENTID_TEST_LDAP_ROOTDN" -y "$W/admin.pw" -f "$W/bind.ldif") ||
		return 1
	printf '%s\n' "$out"

	demo_step "Certificates: which agent, which task, for whom, for one hour"
	demo_cmd 'ssh-keygen -s agent_ca -I "deploy-bot CHG-1234" -n deploy-bot -V -1m:+1h -z 4711 \
    -O extension:task@agentid=CHG-1234 \
    -O extension:on-behalf-of@agentid=alice@example.org deploy-bot.pub'
	demo_cmd 'ssh-keygen -s agent_ca -I "build-bot CHG-1235" -n build-bot -V -1m:+1h -z 4712 \
    -O extension:task@agentid=CHG-1235 \
    -O extension:on-behalf-of@agentid=bob@example.org build-bot.pub'
	demo_cmd 'ssh-keygen -s agent_ca -I "old-bot CHG-1236" -n old-bot -V -1m:+1h -z 4713 \
    -O extension:task@agentid=CHG-1236 \
    -O extension:on-behalf-of@agentid=alice@example.org old-bot.pub'
	echo "(all three certificates are valid: the directory decides who gets in)"

	# the namespace: agents through libnss_agent, our PAM stack, the
	# principals command, a home for deploy-bot
	sshd_bind_nsswitch "$W" || return 1
	cat >"$W/pam.sshd" <<EOF
# the demo's stack: certificates only. On a real host keep Debian's
# @include lines and add the account and session lines (README, "Host setup")
auth     required pam_deny.so
account  required $SSHD_PAM_MODULE config=$CONF unknown=deny
session  required $SSHD_PAM_MODULE config=$CONF
password required pam_deny.so
EOF
	sshd_bind_pam "$W/pam.sshd" || return 1
	sshd_principals_command "$AGENTID" "$CONF" || return 1
	mount -t tmpfs -o mode=0755 agentid-demo-home /home || return 1
	install -d -m 0700 -o 20001 -g 20000 /home/deploy-bot || return 1
	ssh-keygen -q -t ed25519 -N "" -C web1 -f "$W/host_key" || return 1
	# shellcheck disable=SC2034 # read by sshd_start
	SSHD_REPLICA=$REPLICA
	sshd_start demo "$W" \
	    "HostKey $W/host_key" \
	    "TrustedUserCAKeys $K/agent_ca.pub" \
	    "${SSHD_PRINCIPALS_LINES[@]}" \
	    "# the session finds the demo's libnss_agent and replica (not needed once installed)" \
	    "SetEnv LD_LIBRARY_PATH=$SSHD_NSSDIR AGENTID_REPLICA=$REPLICA" ||
		return 1
	demo_ssh_config >ssh_config

	demo_step "sshd on 127.0.0.1:$SSHD_PORT (as web1.example.org)"
	echo "sshd_config:"
	sed 's/^/    /' "$W/sshd-demo.conf"
	echo "/etc/pam.d/sshd (bind-mounted for this sshd only):"
	sed 's/^/    /' "$W/pam.sshd"
	echo "/mnt/principals (runs agentid principals; sshd wants a root-only path):"
	sed 's/^/    /' /mnt/principals
	echo "ssh_config: Host web1 is 127.0.0.1 port $SSHD_PORT, no known_hosts."

	MARK=$(wc -l <"$LOG" 2>/dev/null) || MARK=0
	demo_step "deploy-bot logs in with its certificate"
	out=$(demo_ssh deploy-bot \
	    'id; env | grep -E "^AGENTID_(OWNER|CHAIN|TASK|SESSION)=" | sort')
	printf '%s\n' "$out"
	SID=$(sed -n 's/^AGENTID_SESSION=//p' <<<"$out")
	: "$SID"

	demo_step "Refused: build-bot (its delegator orch is revoked), old-bot (expired)"
	demo_ssh build-bot id
	demo_ssh old-bot id

	# sshd closes the PAM session after the client has gone
	for _ in $(seq 1 50); do
		[ -n "$SID" ] || break
		grep -q "\"event\":\"session_close\".*\"session\":\"$SID\"" "$LOG" &&
			break
		sleep 0.1
	done

	demo_step "The audit trail of these logins"
	echo "(one JSON object per line, hash-chained; here: event, user, decision,"
	echo "reason, key_id, task of each line the logins added. sshd runs the"
	echo "principals command twice per login: for the key, then its signature)"
	echo
	demo_audit_table "$LOG" "$MARK"
	echo
	echo "deploy-bot's session_open line in full:"
	grep '"event":"session_open"' "$LOG" | tail -n 1
	printf '\n$ agentid audit verify\n'
	"$AGENTID" --config "$CONF" audit verify
	sshd_stop
	return 0
}

if [ -n "${AGENTID_DEMO_SSHD_INNER:-}" ]; then
	# run by the code below, inside the private mount namespace
	set -u
	demo_sshd_inner
	exit $?
fi

say "Certificate logins through a real sshd"
if [ -r "$REPO/tests/e2e/sshd-lib.sh" ]; then
	# shellcheck source=../../tests/e2e/sshd-lib.sh
	. "$REPO/tests/e2e/sshd-lib.sh"
	demo_sshd_why=$(sshd_unusable)
	[ -n "$demo_sshd_why" ] ||
		demo_sshd_why=$(sshd_pick_modules "$BUILD" 2>&1)
else
	demo_sshd_why="tests/e2e/sshd-lib.sh is missing"
fi
if [ -n "$demo_sshd_why" ]; then
	echo "(skipped: $demo_sshd_why)"
else
	echo "A private sshd on 127.0.0.1, in a private mount namespace: the demo's"
	echo "/etc/nsswitch.conf and /etc/pam.d/sshd are bind-mounted over the host's"
	echo "for that sshd only; the host's files are untouched."
	export REPO BUILD AGENTID CONF
	AGENTID_DEMO_SSHD_INNER=1 unshare -m --propagation private \
	    bash "$REPO/scripts/demo.d/20-sshd.sh" ||
		echo "demo: the sshd part failed (exit $?)" >&2
fi

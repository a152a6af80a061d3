# SPDX-License-Identifier: BSD-2-Clause
# scripts/demo.d/50-enforce.sh - runtime enforcement: an agent logged in
# over a real sshd is working in a live session; its orchestrator is revoked
# in the directory; agentid-enforcer ends the session (every process of its
# kernel audit session) and the audit trail says why, who was at fault, how
# long the session lasted and how many processes were signalled.
#
# Sourced by scripts/demo (needs its REPO, BUILD, AGENTID, CONF, say and the
# slapd fixture's variables). Like 20-sshd.sh it runs itself again under
# "unshare -m --propagation private" so that the demo's nsswitch.conf and
# pam.d/sshd (pam_loginuid, then pam_agent) are bound over the host's for
# that namespace only. The enforcer runs as a daemon with heartbeat 1s and
# decides against the directory (no agentidd here: 40-agentidd.sh shows
# the replica); the session registry is a private directory. Without root
# or unshare the section is skipped.

# demo_enf_field LINE KEY: the value of KEY in audit line LINE (string or
# number), "-" when absent
demo_enf_field() {
	local re_s="\"$2\":\"([^\"]*)\"" re_n="\"$2\":([0-9]+)"
	if [[ $1 =~ $re_s ]] || [[ $1 =~ $re_n ]]; then
		printf '%s' "${BASH_REMATCH[1]}"
	else
		printf '%s' -
	fi
}

# demo_enf_procs SES: "PID SID COMMAND" of the live processes of kernel
# audit session SES
demo_enf_procs() {
	local p s st
	[ -n "$1" ] || return 0
	for p in /proc/[0-9]*; do
		s=$(cat "$p/sessionid" 2>/dev/null) || continue
		[ "$s" = "$1" ] || continue
		st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$p/status" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] || continue
		ps -o pid=,sid=,args= -p "${p#/proc/}" 2>/dev/null
	done
}

demo_enforce_inner() {
	local W K LOG ECONF SPID SES t0 t1 i line open term left
	# shellcheck source=../../tests/integration/slapd-fixture.sh
	. "$REPO/tests/integration/slapd-fixture.sh" # for _slapd_free_port
	# shellcheck source=../../tests/e2e/sshd-lib.sh
	. "$REPO/tests/e2e/sshd-lib.sh"
	sshd_pick_modules "$BUILD" || return 1
	W="$AGENTID_TEST_LDAP_DIR/enforce" # slapd_stop removes it
	K="$W/keys"
	LOG="$AGENTID_TEST_LDAP_DIR/audit.log"
	DEMO_ENF_EPID=
	trap '[ -n "$DEMO_ENF_EPID" ] && kill "$DEMO_ENF_EPID" 2>/dev/null; sshd_stop' EXIT
	mkdir -p "$K" && cd "$W" || return 1
	mkdir -m 0700 "$W/sessions" || return 1
	export AGENTID_SESSION_DIR="$W/sessions" AGENTID_LDAP_MODULE="$SSHD_LDAP_MODULE"
	(umask 077 && printf '%s\n' "$AGENTID_TEST_LDAP_ROOTPW" >"$W/op.pw")

	printf '\n$ agentid create ops-bot --owner uid=planner,ou=agents,... --for 1d --scope host:web1.example.org --scope service:sshd ...\n'
	"$AGENTID" --config "$CONF" create ops-bot \
	    --owner "uid=planner,ou=agents,$AGENTID_TEST_LDAP_BASE" --for 1d \
	    --scope host:web1.example.org --scope service:sshd \
	    --bind-dn "$AGENTID_TEST_LDAP_ROOTDN" --password-file "$W/op.pw" ||
		return 1
	"$AGENTID" --config "$CONF" sync >/dev/null || return 1

	ssh-keygen -q -t ed25519 -N "" -C ca -f "$K/ca" &&
	    ssh-keygen -q -t ed25519 -N "" -C ops-bot -f "$K/ops-bot" &&
	    ssh-keygen -q -t ed25519 -N "" -C web1 -f "$K/host" &&
	    ssh-keygen -q -s "$K/ca" -I "ops-bot INC-77" -n ops-bot -V -1m:+1h \
	    -z 77 -O extension:task@agentid=INC-77 "$K/ops-bot.pub" || return 1

	sshd_bind_nsswitch "$W" || return 1
	cat >"$W/pam.sshd" <<EOF
auth     required pam_deny.so
account  required $SSHD_PAM_MODULE config=$CONF unknown=deny
session  required pam_loginuid.so
session  required $SSHD_PAM_MODULE config=$CONF
password required pam_deny.so
EOF
	sshd_bind_pam "$W/pam.sshd" || return 1
	# shellcheck disable=SC2034 # read by sshd_start
	SSHD_REPLICA="$AGENTID_TEST_LDAP_DIR/agents.cdb"
	sshd_start enforce "$W" "HostKey $K/host" "TrustedUserCAKeys $K/ca.pub" ||
		return 1
	echo
	echo "sshd on 127.0.0.1:$SSHD_PORT; /etc/pam.d/sshd (this namespace only):"
	sed 's/^/    /' "$W/pam.sshd"
	echo "(pam_loginuid first: it gives the login a kernel audit session that"
	echo "every process of it inherits and none can leave; pam_agent then"
	echo "registers the session under the registry for the enforcer)"

	# the enforcer as a daemon; heartbeat 1s: a pass every second at most
	ECONF="$W/agentid.conf"
	cp "$CONF" "$ECONF" && chmod 0600 "$ECONF" &&
	    printf 'heartbeat 1s\nenforce_grace 2s\n' >>"$ECONF" || return 1
	printf '\n$ agentid-enforcer --config agentid.conf &    # as agentid-enforcer.service runs it\n'
	"$BUILD/agentidd/agentid-enforcer" --config "$ECONF" \
	    >>"$W/enforcer.log" 2>&1 &
	DEMO_ENF_EPID=$!

	printf '\n$ ssh -i ops-bot -o CertificateFile=ops-bot-cert.pub ops-bot@web1 \\\n'
	printf "    'setsid sleep 600 </dev/null >/dev/null 2>&1 &\n"
	printf "     while :; do echo \"\$(date +%%T) ops-bot working (audit session \$(cat /proc/self/sessionid))\"; sleep 1; done' &\n"
	# shellcheck disable=SC2016 # for the remote shell
	ssh -n -F /dev/null -p "$SSHD_PORT" -i "$K/ops-bot" \
	    -o CertificateFile="$K/ops-bot-cert.pub" -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR ops-bot@127.0.0.1 \
	    'setsid sleep 600 </dev/null >/dev/null 2>&1 & while :; do echo "$(date +%T) ops-bot working (audit session $(cat /proc/self/sessionid))"; sleep 1; done' \
	    >"$W/ssh.out" 2>"$W/ssh.err" &
	SPID=$!
	for i in $(seq 1 100); do
		[ -s "$W/ssh.out" ] && break
		sleep 0.1
	done
	sleep 2.5
	if ! kill -0 "$SPID" 2>/dev/null; then
		cat "$W/ssh.out" "$W/ssh.err"
		echo "(ops-bot did not stay logged in; sshd log: $W/sshd-enforce.log)"
		return 1
	fi
	sed 's/^/    /' "$W/ssh.out"
	SES=$(sed -n 's/.*(audit session \([0-9]*\)).*/\1/p' "$W/ssh.out" | head -n 1)
	echo
	echo "Its processes, found by their kernel audit session $SES (the setsid'd"
	echo "sleep is in another POSIX session, and still in this audit session):"
	demo_enf_procs "$SES" | sed 's/^/    /'
	echo
	echo "The session registry (root only) has it:"
	for i in "$W"/sessions/*; do
		[ -f "$i" ] && sed -n 's/^\(user\|pid\|audit_session\|service\|rhost\) /    &/p' "$i"
	done

	printf '\n$ agentid revoke planner ...    # ops-bot'"'"'s orchestrator, in the directory\n'
	t0=$(date +%s%N)
	"$AGENTID" --config "$CONF" revoke planner \
	    --bind-dn "$AGENTID_TEST_LDAP_ROOTDN" --password-file "$W/op.pw"
	t1=
	for i in $(seq 1 500); do
		if ! kill -0 "$SPID" 2>/dev/null; then
			t1=$(date +%s%N)
			break
		fi
		sleep 0.01
	done
	wait "$SPID" 2>/dev/null
	echo
	echo "ops-bot's ssh session, to the end:"
	sed 's/^/    /' "$W/ssh.out"
	if [ -n "$t1" ]; then
		echo "(the ssh client exited $(((t1 - t0) / 1000000)) ms after the revocation was written;"
		echo " the enforcer decides at its next pass: inotify on agentidd's replica,"
		echo " or here, without agentidd, within the 1 s heartbeat)"
	else
		echo "(still running 5 s after the revocation: see $W/enforcer.log)"
	fi

	sleep 0.5
	left=$(demo_enf_procs "$SES" | wc -l)
	echo "Processes left in audit session $SES: $left"
	for i in $(seq 1 50); do
		grep -q '"event":"session_terminate".*"user":"ops-bot"' "$LOG" && break
		sleep 0.1
	done
	open=$(grep '"event":"session_open"' "$LOG" | grep '"user":"ops-bot"' | tail -n 1)
	term=$(grep '"event":"session_terminate"' "$LOG" | grep '"user":"ops-bot"' | tail -n 1)
	echo
	echo "The audit trail: the session as it opened, and as it was ended"
	printf '    %-18s %-8s %-9s %-8s %-44s %-9s %-9s %s\n' EVENT DECISION REASON TASK \
	    CULPRIT DURATION SIGNALLED AUDIT_SESSION
	for line in "$open" "$term"; do
		[ -n "$line" ] || continue
		printf '    %-18s %-8s %-9s %-8s %-44s %-9s %-9s %s\n' \
		    "$(demo_enf_field "$line" event)" \
		    "$(demo_enf_field "$line" decision)" \
		    "$(demo_enf_field "$line" reason)" \
		    "$(demo_enf_field "$line" task)" \
		    "$(demo_enf_field "$line" culprit)" \
		    "$(demo_enf_field "$line" duration)" \
		    "$(demo_enf_field "$line" signalled)" \
		    "$(demo_enf_field "$line" audit_session)"
	done
	echo
	echo "session_open in full:"
	printf '%s\n' "$open"
	echo "session_terminate in full:"
	printf '%s\n' "$term"
	[ -n "$term" ] || echo "(no session_terminate line: see $W/enforcer.log)"
	kill "$DEMO_ENF_EPID" 2>/dev/null
	wait "$DEMO_ENF_EPID" 2>/dev/null
	DEMO_ENF_EPID=
	sshd_stop
	return 0
}

if [ -n "${AGENTID_DEMO_ENFORCE_INNER:-}" ]; then
	# run by the code below, inside the private mount namespace
	set -u
	demo_enforce_inner
	exit $?
fi

say "Runtime enforcement: a revocation ends a live agent session"
demo_enf_why=
if [ -r "$REPO/tests/e2e/sshd-lib.sh" ]; then
	# shellcheck source=../../tests/e2e/sshd-lib.sh
	. "$REPO/tests/e2e/sshd-lib.sh"
	demo_enf_why=$(sshd_unusable)
	[ -n "$demo_enf_why" ] ||
		demo_enf_why=$(sshd_pick_modules "$BUILD" 2>&1)
else
	demo_enf_why="tests/e2e/sshd-lib.sh is missing"
fi
[ -n "$demo_enf_why" ] || [ -x "$BUILD/agentidd/agentid-enforcer" ] ||
	demo_enf_why="$BUILD/agentidd/agentid-enforcer is not built"
[ -n "$demo_enf_why" ] || (echo 60000 >/proc/self/loginuid) 2>/dev/null ||
	demo_enf_why="the kernel gives no audit sessions here (/proc/self/loginuid)"
if [ -n "$demo_enf_why" ]; then
	echo "(skipped: $demo_enf_why)"
else
	echo "ops-bot, delegated by planner, logs in and works; then planner is"
	echo "revoked. agentid-enforcer re-decides every registered agent session"
	echo "when the directory changes and ends those denied: every process of"
	echo "the session's kernel audit session, including any that left with setsid."
	export REPO BUILD AGENTID CONF
	AGENTID_DEMO_ENFORCE_INNER=1 unshare -m --propagation private \
	    bash "$REPO/scripts/demo.d/50-enforce.sh" ||
		echo "demo: the enforcement part failed (exit $?)" >&2
fi

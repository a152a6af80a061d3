# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# faults-lib.sh - what the fault tests share (bash, sourced after
# tests/integration/slapd-fixture.sh and tests/agentidd/agentidd-lib.sh).
#
#   ms                              milliseconds since the epoch
#   faults_make_certs DIR           good/wrongca/expired/mismatch .pem+.key
#                                   for tests/faults/fault_proxy.py, from the
#                                   newest slapd instance's CAs
#   proxy_start UPSTREAM_PORT DIR   fault_proxy.py in front of slapd's plain
#                                   port; PROXY_PORT, PROXY_PID
#   proxy_mode MODE [ARG]           sets the proxy's mode, waits for its ack
#   proxy_stop                      ends it (called by faults_cleanup)
#   decide_check CONF USER          `agentid check --json`: RC, REASON,
#                                   SOURCE, EL (ms)
#   decide_pam SERVICE USER         account through libpam: CODE, EL
#   decide_principals CONF USER     `agentid principals`: RC, OUT, EL
#   sanitizer_reports FILE...       non-empty when a sanitizer spoke

PROXY=${top_srcdir:-.}/tests/faults/fault_proxy.py
PROXY_PID='' PROXY_PORT='' PROXY_CTL='' PROXY_OUT='' _PROXY_SEQ=0
DRIVER=${top_builddir:-.}/tests/pam/pam_driver
MODULE=$(cd "${top_builddir:-.}" && pwd)/pam_agent/.libs/pam_agent.so
PROBE=$(cd "${top_builddir:-.}" && pwd)/tests/pam/.libs/pam_probe.so

# (bash's clock: no process started to read it)
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# Skips (77) when the PAM driver cannot run or python3 is missing.
faults_prereqs() {
	command -v python3 >/dev/null 2>&1 || _slapd_skip "python3 is missing"
	[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built" >&2; exit 1; }
	[ -f "$MODULE" ] || { echo "FAIL: $MODULE not built" >&2; exit 1; }
	[ -f "$PROBE" ] || { echo "FAIL: $PROBE not built" >&2; exit 1; }
	"$DRIVER" --confdir /nonexistent --service x --user x close \
	    >/dev/null 2>&1
	[ $? -eq 77 ] && _slapd_skip "libpam has no pam_start_confdir"
	return 0
}

# faults_make_certs DIR: server certificates that must all be refused
# (except good): signed by an unrelated CA, expired (validity in 2020),
# and for another host name (no 127.0.0.1 in subjectAltName).
faults_make_certs() {
	local d=$1 t=$AGENTID_TEST_LDAP_DIR/tls
	local ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	local san="subjectAltName=IP:127.0.0.1,DNS:localhost"
	mkdir -p "$d/ca/newcerts" || return 1
	cp "$t/server.pem" "$d/good.pem" && cp "$t/server.key" "$d/good.key" ||
	    return 1
	(
		cd "$d" || exit 1
		: >ca/index.txt
		echo 1000 >ca/serial
		cat >ca/ca.cnf <<EOF
[ ca ]
default_ca = test
[ test ]
database = $d/ca/index.txt
new_certs_dir = $d/ca/newcerts
serial = $d/ca/serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
[ ext ]
$san
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
keyUsage = digitalSignature,keyEncipherment
EOF
		for n in wrongca expired mismatch; do
			# shellcheck disable=SC2086
			openssl req $ec -keyout $n.key -out $n.csr \
			    -subj "/O=agentid-test/CN=localhost" || exit 1
		done
		printf '%s\n' "$san" "basicConstraints=CA:FALSE" \
		    "extendedKeyUsage=serverAuth" >wrongca.ext
		openssl x509 -req -in wrongca.csr -CA "$t/wrong-ca.pem" \
		    -CAkey "$t/wrong-ca.key" -CAcreateserial -days 3 \
		    -extfile wrongca.ext -out wrongca.pem &&
		openssl ca -batch -config ca/ca.cnf -cert "$t/ca.pem" \
		    -keyfile "$t/ca.key" -in expired.csr -out expired.pem \
		    -startdate 20200101000000Z -enddate 20200201000000Z \
		    -extensions ext -notext &&
		printf '%s\n' "subjectAltName=DNS:elsewhere.example.org" \
		    "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
		    >mismatch.ext &&
		openssl x509 -req -in mismatch.csr -CA "$t/ca.pem" \
		    -CAkey "$t/ca.key" -CAcreateserial -days 3 \
		    -extfile mismatch.ext -out mismatch.pem
	) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; return 1; }
	chmod 0600 "$d"/*.key
}

# proxy_start UPSTREAM_PORT CERTDIR: the proxy, in mode pass.
proxy_start() {
	local i
	PROXY_CTL=$2/proxy.ctl PROXY_OUT=$2/proxy.out
	rm -f "$PROXY_CTL"
	mkfifo -m 0600 "$PROXY_CTL" || return 1
	python3 "$PROXY" 127.0.0.1 "$1" "$2" <"$PROXY_CTL" >"$PROXY_OUT" \
	    2>"$2/proxy.err" &
	PROXY_PID=$!
	exec {_PROXY_FD}>"$PROXY_CTL"
	for i in $(seq 1 100); do
		PROXY_PORT=$(head -n 1 "$PROXY_OUT" 2>/dev/null)
		[ -n "$PROXY_PORT" ] && return 0
		sleep 0.05
	done
	echo "fault_proxy.py did not start: $(cat "$2/proxy.err")" >&2
	return 1
}

# proxy_mode MODE [ARG]: in force when this returns (0), or 1 after 10 s.
proxy_mode() {
	local i
	_PROXY_SEQ=$((_PROXY_SEQ + 1))
	echo "$_PROXY_SEQ $*" >&"$_PROXY_FD"
	for i in $(seq 1 200); do
		grep -qx "ack $_PROXY_SEQ" "$PROXY_OUT" && return 0
		sleep 0.05
	done
	echo "fault_proxy.py: no ack for $*" >&2
	return 1
}

proxy_stop() {
	[ -n "$PROXY_PID" ] || return 0
	kill -CONT "$PROXY_PID" 2>/dev/null
	exec {_PROXY_FD}>&- 2>/dev/null
	kill "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=
}

# decide_check CONF USER: RC, REASON, SOURCE, EL (ms); a run killed after
# 60 s is RC 124 (a hang).
decide_check() {
	local t0 out
	t0=$(ms)
	out=$(timeout 60 "$AGENTID" --config "$1" check "$2" --json \
	    2>>"$D/fronts.err")
	RC=$?
	EL=$(( $(ms) - t0 ))
	out=$(tr -d '\n' <<<"$out")
	REASON=$(sed -n 's/.*"reason": *"\([a-z_]*\)".*/\1/p' <<<"$out")
	SOURCE=$(sed -n 's/.*"source": *"\([a-z_]*\)".*/\1/p' <<<"$out")
}

# decide_pam SERVICE USER: CODE, pam_agent.so's own account code (seen by
# tests/pam/pam_probe.so: libpam turns a lone PAM_IGNORE into a denial),
# "hang" or "driver-exit-N"; EL
decide_pam() {
	local t0 out rc
	t0=$(ms)
	out=$(timeout 60 "$DRIVER" --confdir "$D/pam.d" --service "$1" \
	    --user "$2" --rhost 127.0.0.1 --pin "$MODULE" account \
	    2>>"$D/fronts.err")
	rc=$?
	EL=$(( $(ms) - t0 ))
	CODE=$(sed -n 's/^env PAM_PROBE_account=//p' <<<"$out")
	[ $rc = 124 ] && CODE=hang
	[ $rc = 0 ] || [ $rc = 124 ] || CODE=driver-exit-$rc
}

# decide_principals CONF USER: RC, OUT (what sshd would read), EL
decide_principals() {
	local t0
	t0=$(ms)
	OUT=$(timeout 60 "$AGENTID" --config "$1" principals -- "$2" \
	    2>>"$D/fronts.err")
	RC=$?
	EL=$(( $(ms) - t0 ))
	OUT=$(tr '\n' ' ' <<<"$OUT")
	OUT=${OUT% }
}

# pam_service NAME CONF: the stack NAME: pam_agent.so's account with CONF
# (through pam_probe.so, which records the module's own code)
pam_service() {
	mkdir -p "$D/pam.d"
	printf 'account required %s %s config=%s\n' "$PROBE" "$MODULE" "$2" \
	    >"$D/pam.d/$1"
}

sanitizer_reports() {
	grep -l 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
	    "$@" 2>/dev/null
}

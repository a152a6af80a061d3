# SPDX-License-Identifier: BSD-2-Clause
# slapd-fixture.sh - a private slapd for agentid's tests and demo (bash).
#
# Source it from a bash test script, then:
#
#   . "$top_srcdir/tests/integration/slapd-fixture.sh"
#   slapd_start                      # exit 77 (SKIP) if slapd is missing
#   slapd_load "$top_srcdir/tests/integration/agents.ldif"
#   slapd_write_conf "$AGENTID_TEST_LDAP_DIR/agentid.conf" [ "key value" ...]
#   ... run agentid / pamtester / getent against it ...
#   slapd_stop                       # also run by the EXIT/INT/TERM trap
#
# slapd_start [--anon read|none] [--syncprov] [--debug LEVEL]
#             [--consumer-of URI]
#   --syncprov: loads the syncprov overlay on the database (RFC 4533
#   provider, for agentidd) and lifts the size limit for the reader,
#   the root DN and anonymous (a sync search is not paged).
#   --debug LEVEL: slapd -d LEVEL instead of -d 0 (e.g. "stats": one line
#   per connection and operation in $AGENTID_TEST_LDAP_DIR/slapd.log).
#   --consumer-of URI: a replica of the provider at URI (an instance
#   started before, with --syncprov: same base and root DN password):
#   syncrepl refreshAndPersist as the root DN, retrying every second, and
#   syncprov too (agentidd may sync from it); the base entries come from
#   the provider, so none are created here.
#   Starts a slapd (Debian's slapd package) on loopback with a generated
#   slapd.conf: schemas core, cosine, nis, inetorgperson and the project's
#   schema/agentid.schema; an mdb database in a fresh temp dir; listeners
#   ldap://127.0.0.1:PORT/, ldaps://127.0.0.1:PORT2/ and ldapi:// (socket in
#   the temp dir); TLS with a CA and server certificate made by openssl now
#   (subjectAltName IP:127.0.0.1 and DNS:localhost). It creates the base
#   entry, ou=services and the read-only service account cn=reader. Waits
#   until slapd answers. --anon none: anonymous may only bind (the reader,
#   the root DN and SASL EXTERNAL identities still read everything); the
#   default is anonymous read. ACL: userPassword is readable by nobody.
#   Size limit 500 entries per search, unlimited with paged results.
#   SASL EXTERNAL: the peer credentials of the user running the test over
#   ldapi://, and the TLS client certificate below, both map (authz-regexp)
#   to cn=reader. Can be called again to start another, independent
#   instance (e.g. one to SIGSTOP); the variables then describe the newest
#   one, and slapd_stop stops them all.
#   Variables exported (for the newest instance):
#     AGENTID_TEST_LDAP_URI         ldap://127.0.0.1:PORT
#     AGENTID_TEST_LDAP_LDAPS_URI   ldaps://127.0.0.1:PORT2
#     AGENTID_TEST_LDAP_LDAPI_URI   ldapi://%2Ftmp%2F...%2Fldapi
#     AGENTID_TEST_LDAP_PORT, AGENTID_TEST_LDAP_LDAPS_PORT
#     AGENTID_TEST_LDAP_BASE        dc=example,dc=org (set it before
#                                   slapd_start to choose another suffix)
#     AGENTID_TEST_LDAP_CACERT      CA that signed the server certificate
#     AGENTID_TEST_LDAP_WRONG_CACERT  an unrelated CA (must fail to verify)
#     AGENTID_TEST_LDAP_CLIENT_CERT, AGENTID_TEST_LDAP_CLIENT_KEY
#                                   client certificate (maps to cn=reader)
#     AGENTID_TEST_LDAP_ROOTDN, AGENTID_TEST_LDAP_ROOTPW   cn=admin,BASE
#     AGENTID_TEST_LDAP_READERDN    cn=reader,ou=services,BASE
#     AGENTID_TEST_LDAP_READERPW    its password
#     AGENTID_TEST_LDAP_READERPW_FILE  the same in a file, mode 0600
#     AGENTID_TEST_LDAP_DIR         the instance's temp dir (removed by
#                                   slapd_stop; AGENTID_TEST_KEEP=1 keeps it)
#     AGENTID_TEST_LDAP_PID         slapd's pid (kill -STOP it for failover
#                                   tests; slapd_stop sends SIGCONT first)
#
# slapd_load FILE.ldif...
#   ldapadd as the root DN over ldapi://. Before loading, these tokens in
#   the file are replaced: @BASE@ by AGENTID_TEST_LDAP_BASE, and
#   @TIME(+N[smhd])@ / @TIME(-N[smhd])@ by the GeneralizedTime of now +/- N
#   ("@TIME(+3d)@" -> "20261127041722Z"), for data relative to now.
#   Returns non-zero (ldapadd's messages on stderr) if an entry is refused.
#
# slapd_ldif_times FILE
#   Prints FILE with those tokens replaced (for ldapmodify and friends).
#
# slapd_write_conf PATH ["key value"]...
#   Writes an agentid.conf, mode 0600, for the newest instance: uri (ldap://),
#   base, tls_cacert, timeout 10 (generous: sanitizer builds on a loaded
#   machine; tests of the timeout set their own), audit_log/replica inside
#   AGENTID_TEST_LDAP_DIR, audit_syslog no, audit_fsync no. Each extra
#   argument is a config line; its key replaces the default line(s) with the
#   same key (several "uri ..." arguments give several uri lines).
#
# slapd_stop
#   Stops every instance (SIGCONT, SIGTERM, then SIGKILL after 5 s), waits
#   for it, and removes its temp dir. Idempotent. slapd_start installs it as
#   the EXIT, INT and TERM trap; a script that sets its own EXIT trap later
#   must call slapd_stop from it.
#
# Exit 77 with "SKIP: ..." on stderr when slapd, ldapadd or openssl is not
# installed (Debian: slapd ldap-utils openssl).

_SLAPD_PIDS=()
_SLAPD_DIRS=()

# Prints a SKIP notice and exits 77 (automake's "skipped").
_slapd_skip() {
	echo "" >&2
	echo "*** SKIP: $* ***" >&2
	echo "" >&2
	exit 77
}

# Finds a TCP port on 127.0.0.1 that nothing listens on (best effort;
# slapd_start retries with new ports if slapd cannot bind).
_slapd_free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
		if command -v ss >/dev/null 2>&1; then
			[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] || continue
		fi
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Makes the test CA, a server certificate, a client certificate and an
# unrelated CA under $1.
_slapd_make_tls() {
	local d=$1 ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	mkdir -p "$d" || return 1
	(
		cd "$d" || exit 1
		# shellcheck disable=SC2086
		openssl req -x509 $ec -keyout ca.key -out ca.pem -days 3 \
		    -subj "/O=agentid-test/CN=agentid test CA" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -x509 $ec -keyout wrong-ca.key -out wrong-ca.pem -days 3 \
		    -subj "/O=agentid-test/CN=agentid wrong CA" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req $ec -keyout server.key -out server.csr \
		    -subj "/O=agentid-test/CN=localhost" &&
		printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		    "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
		    "keyUsage=digitalSignature,keyEncipherment" >server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
		    -CAcreateserial -days 3 -extfile server.ext -out server.pem &&
		openssl req $ec -keyout client.key -out client.csr \
		    -subj "/O=agentid-test/CN=reader" &&
		printf '%s\n' "basicConstraints=CA:FALSE" \
		    "extendedKeyUsage=clientAuth" \
		    "keyUsage=digitalSignature" >client.ext &&
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
		    -CAcreateserial -days 3 -extfile client.ext -out client.pem &&
		chmod 0600 ./*.key
	) >"$d/openssl.log" 2>&1
}

# Generates slapd.conf for instance dir $1, base $2, anonymous access $3.
_slapd_write_slapd_conf() {
	local d=$1 base=$2 anon=$3 syncprov=${4:-} consumer_of=${5:-}
	local schema uid gid mod= ovl= lim= repl=
	schema="${top_srcdir:-.}/schema/agentid.schema"
	uid=$(id -u)
	gid=$(id -g)
	if [ -n "$syncprov" ]; then
		mod="moduleload syncprov"
		ovl="index entryCSN,entryUUID eq
overlay syncprov
syncprov-checkpoint 100 10"
		lim="limits dn.exact=\"cn=reader,ou=services,$base\" size=unlimited
limits anonymous size=unlimited"
	fi
	if [ -n "$consumer_of" ]; then
		repl="syncrepl rid=001 provider=$consumer_of type=refreshAndPersist
	searchbase=\"$base\" bindmethod=simple binddn=\"cn=admin,$base\"
	credentials=$AGENTID_TEST_LDAP_ROOTPW retry=\"1 +\" timeout=3
	network-timeout=3"
	fi
	cat >"$d/slapd.conf" <<EOF
# generated by slapd-fixture.sh
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include $schema
pidfile $d/slapd.pid
argsfile $d/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
$mod
TLSCACertificateFile $d/tls/ca.pem
TLSCertificateFile $d/tls/server.pem
TLSCertificateKeyFile $d/tls/server.key
TLSVerifyClient try
authz-regexp "^gidnumber=$gid[+]uidnumber=$uid,cn=peercred,cn=external,cn=auth\$" "cn=reader,ou=services,$base"
authz-regexp "^cn=reader,o=agentid-test\$" "cn=reader,ou=services,$base"

database mdb
maxsize 67108864
suffix "$base"
rootdn "cn=admin,$base"
rootpw $AGENTID_TEST_LDAP_ROOTPW
directory $d/db
$repl
# the usual limit of 500 entries per search, but paged searches (RFC 2696)
# may walk everything: as docs/ldap.md advises for the service account
$lim
limits * size.soft=500 size.hard=500 size.prtotal=unlimited
index objectClass eq
index uid,uidNumber,gidNumber,memberUid,agentOwner,agentNotAfter eq
access to attrs=userPassword
	by anonymous auth
	by * none
access to *
	by dn.exact="cn=reader,ou=services,$base" read
	by users read
	by anonymous $anon
$ovl
EOF
}

# slapd_start [--anon read|none]: see the top of this file.
slapd_start() {
	local anon=read d try port port2 sock enc i syncprov= dbg=0 consumer_of=
	while [ $# -gt 0 ]; do
		case $1 in
		--anon) anon=$2; shift 2 ;;
		--syncprov) syncprov=1; shift ;;
		--debug) dbg=$2; shift 2 ;;
		--consumer-of) consumer_of=$2; syncprov=1; shift 2 ;;
		*) echo "slapd_start: unknown argument $1" >&2; return 2 ;;
		esac
	done
	[ "$anon" = none ] && anon=auth
	[ -x /usr/sbin/slapd ] || command -v slapd >/dev/null 2>&1 ||
	    _slapd_skip "slapd is not installed (Debian: apt-get install slapd)"
	command -v ldapadd >/dev/null 2>&1 ||
	    _slapd_skip "ldapadd is not installed (Debian: apt-get install ldap-utils)"
	command -v openssl >/dev/null 2>&1 ||
	    _slapd_skip "openssl is not installed"
	[ -r /etc/ldap/schema/nis.schema ] ||
	    _slapd_skip "/etc/ldap/schema/nis.schema missing (slapd package)"

	export AGENTID_TEST_LDAP_BASE="${AGENTID_TEST_LDAP_BASE:-dc=example,dc=org}"
	export AGENTID_TEST_LDAP_ROOTDN="cn=admin,$AGENTID_TEST_LDAP_BASE"
	export AGENTID_TEST_LDAP_ROOTPW="root-secret-$$"
	export AGENTID_TEST_LDAP_READERDN="cn=reader,ou=services,$AGENTID_TEST_LDAP_BASE"
	export AGENTID_TEST_LDAP_READERPW="reader-secret-$$"

	d=$(mktemp -d "${TMPDIR:-/tmp}/agentid-slapd.XXXXXX") || return 1
	if [ ${#d} -gt 80 ]; then # ldapi socket paths are limited to 108 bytes
		rmdir "$d"
		d=$(mktemp -d /tmp/agentid-slapd.XXXXXX) || return 1
	fi
	chmod 0755 "$d"
	_SLAPD_DIRS+=("$d")
	if [ ${#_SLAPD_PIDS[@]} -eq 0 ]; then
		trap 'slapd_stop' EXIT
		trap 'slapd_stop; exit 130' INT
		trap 'slapd_stop; exit 143' TERM
	fi
	_slapd_make_tls "$d/tls" || {
		cat "$d/tls/openssl.log" >&2
		echo "slapd_start: openssl failed" >&2
		return 1
	}
	_slapd_write_slapd_conf "$d" "$AGENTID_TEST_LDAP_BASE" "$anon" \
	    "$syncprov" "$consumer_of"
	sock="$d/ldapi"
	enc=${sock//\//%2F}

	for try in 1 2 3 4 5; do
		rm -rf "$d/db"
		mkdir -p "$d/db"
		port=$(_slapd_free_port) && port2=$(_slapd_free_port) || {
			echo "slapd_start: no free port" >&2
			return 1
		}
		[ "$port" != "$port2" ] || continue
		slapd -f "$d/slapd.conf" -d "$dbg" \
		    -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$port2/ ldapi://$enc" \
		    >"$d/slapd.log" 2>&1 &
		AGENTID_TEST_LDAP_PID=$!
		for i in $(seq 1 100); do
			kill -0 "$AGENTID_TEST_LDAP_PID" 2>/dev/null || break
			if ldapsearch -x -LLL -H "ldapi://$enc" -o nettimeout=2 \
			    -s base -b "" namingContexts >/dev/null 2>&1; then
				break
			fi
			sleep 0.1
		done
		if kill -0 "$AGENTID_TEST_LDAP_PID" 2>/dev/null &&
		    ldapsearch -x -LLL -H "ldapi://$enc" -o nettimeout=2 \
		    -s base -b "" namingContexts >/dev/null 2>&1; then
			break
		fi
		kill -9 "$AGENTID_TEST_LDAP_PID" 2>/dev/null
		wait "$AGENTID_TEST_LDAP_PID" 2>/dev/null
		AGENTID_TEST_LDAP_PID=
	done
	if [ -z "$AGENTID_TEST_LDAP_PID" ]; then
		echo "slapd_start: slapd did not start; its log:" >&2
		cat "$d/slapd.log" >&2
		return 1
	fi
	_SLAPD_PIDS+=("$AGENTID_TEST_LDAP_PID")

	export AGENTID_TEST_LDAP_PID
	export AGENTID_TEST_LDAP_DIR="$d"
	export AGENTID_TEST_LDAP_PORT="$port"
	export AGENTID_TEST_LDAP_LDAPS_PORT="$port2"
	export AGENTID_TEST_LDAP_URI="ldap://127.0.0.1:$port"
	export AGENTID_TEST_LDAP_LDAPS_URI="ldaps://127.0.0.1:$port2"
	export AGENTID_TEST_LDAP_LDAPI_URI="ldapi://$enc"
	export AGENTID_TEST_LDAP_CACERT="$d/tls/ca.pem"
	export AGENTID_TEST_LDAP_WRONG_CACERT="$d/tls/wrong-ca.pem"
	export AGENTID_TEST_LDAP_CLIENT_CERT="$d/tls/client.pem"
	export AGENTID_TEST_LDAP_CLIENT_KEY="$d/tls/client.key"
	export AGENTID_TEST_LDAP_READERPW_FILE="$d/readerpw"
	# no newline, so that ldapsearch -y works as well
	(umask 077 && printf '%s' "$AGENTID_TEST_LDAP_READERPW" >"$d/readerpw")

	[ -n "$consumer_of" ] && return 0
	local b=$AGENTID_TEST_LDAP_BASE rdn
	rdn=${b%%,*}
	ldapadd -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
	    -w "$AGENTID_TEST_LDAP_ROOTPW" >"$d/init.log" 2>&1 <<EOF || {
dn: $b
objectClass: dcObject
objectClass: organization
dc: ${rdn#*=}
o: agentid test

dn: ou=services,$b
objectClass: organizationalUnit
ou: services

dn: $AGENTID_TEST_LDAP_READERDN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
description: read-only service account of agentid
userPassword: $AGENTID_TEST_LDAP_READERPW
EOF
		cat "$d/init.log" >&2
		echo "slapd_start: could not create the base entries" >&2
		return 1
	}
	return 0
}

# Prints the GeneralizedTime of now + $1 ("+3d", "-2h", "30s").
_slapd_gentime() {
	local spec=$1 sign=1 n unit mult
	case $spec in
	+*) spec=${spec#+} ;;
	-*) spec=${spec#-}; sign=-1 ;;
	esac
	n=${spec%[smhd]}
	unit=${spec#"$n"}
	case $unit in
	d) mult=86400 ;; h) mult=3600 ;; m) mult=60 ;; *) mult=1 ;;
	esac
	date -u -d "@$(( $(date +%s) + sign * n * mult ))" +%Y%m%d%H%M%SZ
}

# slapd_ldif_times FILE: FILE with @BASE@ and @TIME(...)@ replaced.
slapd_ldif_times() {
	local f=$1 tok text
	text=$(cat "$f") || return 1
	for tok in $(grep -o '@TIME([+-]\?[0-9]\+[smhd]\?)@' "$f" | sort -u); do
		local spec=${tok#@TIME(}
		spec=${spec%)@}
		text=${text//"$tok"/$(_slapd_gentime "$spec")}
	done
	text=${text//@BASE@/$AGENTID_TEST_LDAP_BASE}
	printf '%s\n' "$text"
}

# slapd_load FILE...: adds the entries of each LDIF file as the root DN.
slapd_load() {
	local f
	for f in "$@"; do
		slapd_ldif_times "$f" | ldapadd -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" \
		    -D "$AGENTID_TEST_LDAP_ROOTDN" -w "$AGENTID_TEST_LDAP_ROOTPW" \
		    >/dev/null || {
			echo "slapd_load: $f: ldapadd failed" >&2
			return 1
		}
	done
}

# slapd_write_conf PATH ["key value"]...: see the top of this file.
slapd_write_conf() {
	local path=$1 line key k skip
	shift
	local -a defaults=(
		"uri $AGENTID_TEST_LDAP_URI"
		"base $AGENTID_TEST_LDAP_BASE"
		"tls_cacert $AGENTID_TEST_LDAP_CACERT"
		"timeout 10"
		"audit_log $AGENTID_TEST_LDAP_DIR/audit.log"
		"audit_syslog no"
		"audit_fsync no"
		"replica $AGENTID_TEST_LDAP_DIR/agents.cdb"
	)
	(
		umask 077
		echo "# generated by slapd-fixture.sh for $AGENTID_TEST_LDAP_URI"
		for line in "${defaults[@]}"; do
			key=${line%% *}
			skip=
			for k in "$@"; do
				[ "${k%% *}" = "$key" ] && skip=1
			done
			[ -n "$skip" ] || echo "$line"
		done
		for line in "$@"; do
			echo "$line"
		done
	) >"$path" && chmod 0600 "$path"
}

# slapd_stop: stops every instance and removes its files.
slapd_stop() {
	local pid d i
	for pid in "${_SLAPD_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_SLAPD_PIDS[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	_SLAPD_PIDS=()
	if [ "${AGENTID_TEST_KEEP:-0}" != 1 ]; then
		for d in "${_SLAPD_DIRS[@]}"; do
			case $d in
			*/agentid-slapd.*) rm -rf "$d" ;;
			esac
		done
	else
		for d in "${_SLAPD_DIRS[@]}"; do
			echo "slapd_stop: kept $d" >&2
		done
	fi
	_SLAPD_DIRS=()
	return 0
}

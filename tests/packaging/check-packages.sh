#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/packaging/check-packages.sh - the packages, as a sysadmin gets them:
# builds the .deb and .rpm files with scripts/build-packages, installs the
# .debs on this machine with apt-get, checks files, owners and modes, runs
# the installed agentid, libnss_agent.so.2 and pam_agent.so against a
# private slapd (in a private mount namespace: /etc/nsswitch.conf and
# /etc/pam.d are never touched), removes and purges the packages and checks
# that nothing is left behind; checks `rpm -qlp` of the .rpm files.
#
# Not part of `make check`: scripts/test runs it as root after make check.
# Root only (exit 77 otherwise). Refuses (exit 77) to run on a host where
# agentid is installed or has left files, rather than purge them.
#   tests/packaging/check-packages.sh [--no-build]   (--no-build: use dist/)
set -uo pipefail

skip() {
	echo "" >&2
	echo "*** SKIP: check-packages: $* ***" >&2
	echo "" >&2
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "must run as root (installs and purges packages)"
[ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 ||
	skip "needs Debian (apt-get, dpkg)"
command -v unshare >/dev/null 2>&1 || skip "needs unshare (util-linux)"

top=$(cd "$(dirname "$0")/../.." && pwd)
# slapd and friends for the smoke test, pamtester to drive the PAM module
( . "$top/scripts/deps" && agentid_deps pamtester ) ||
	{ echo "FAIL cannot install the test's dependencies" >&2; exit 1; }
export top_srcdir="$top"
dist="$top/dist"
build=1
[ "${1:-}" = "--no-build" ] && build=0
PACKAGES=(agentid libagentid0 libpam-agent libnss-agent)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
LIBDIR=/usr/lib/$MA
MARKER=/var/tmp/agentid-pkgtest.marker
fails=0
checks=0
start=$(date +%s)

ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*" >&2; }
# check DESCRIPTION COMMAND...: runs the command, ok if it succeeds.
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
# Checks PATH's type (f, d, l), owner:group and octal mode.
check_path() {
	local path=$1 type=$2 mode=${3:-} got
	case $type in
	f) [ -f "$path" ] && [ ! -L "$path" ] ;;
	d) [ -d "$path" ] && [ ! -L "$path" ] ;;
	l) [ -L "$path" ] && [ -e "$path" ] ;;
	esac || { bad "$path missing or not of type $type"; return; }
	[ "$type" = l ] && { ok "$path -> $(readlink "$path")"; return; }
	got=$(stat -c '%U:%G %a' "$path")
	if [ "$got" = "root:root $mode" ]; then
		ok "$path root:root $mode"
	else
		bad "$path is $got, want root:root $mode"
	fi
}
installed() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:1:1}" != n ]
}
purge_all() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${PACKAGES[@]}" \
	    >"$work/purge.log" 2>&1
}

# ---- refuse to touch a real installation ------------------------------------
leftover=0
for p in "${PACKAGES[@]}"; do installed "$p" && leftover=1; done
for f in /etc/agentid.conf /var/lib/agentid /var/log/agentid; do
	[ -e "$f" ] && leftover=1
done
if [ "$leftover" -eq 1 ]; then
	if [ -e "$MARKER" ]; then
		echo "purging what an interrupted run of this test left" >&2
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${PACKAGES[@]}" >/dev/null 2>&1
		rm -rf /var/lib/agentid /var/log/agentid /etc/agentid.conf
	else
		skip "agentid is installed here or has left files (/etc/agentid.conf, /var/lib/agentid, /var/log/agentid); not purging a real installation"
	fi
fi

work=$(mktemp -d /tmp/agentid-pkgtest.XXXXXX)
chmod 0755 "$work"
cleanup() {
	if [ -e "$MARKER" ]; then
		purge_all || true
		rm -rf /var/lib/agentid /var/log/agentid
		rm -f "$MARKER"
	fi
	declare -F slapd_stop >/dev/null && slapd_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- build --------------------------------------------------------------------
if [ "$build" -eq 1 ]; then
	echo "== scripts/build-packages"
	t0=$(date +%s)
	"$top/scripts/build-packages" --out "$dist" || { bad "scripts/build-packages"; exit 1; }
	echo "   built in $(( $(date +%s) - t0 )) s"
fi
version=$(sed -n 's/^AC_INIT(\[agentid\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
debs=()
for p in "${PACKAGES[@]}"; do
	f=$(ls "$dist/${p}_${version}"-*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || { bad "no $dist/${p}_${version}-*.deb"; exit 1; }
	debs+=("$f")
done
ok "four .deb files for $version"

# ---- rpm -qlp ------------------------------------------------------------------
echo "== rpm"
if command -v rpm >/dev/null 2>&1; then
	rpmlist() { rpm -qlp "$dist/$1-$version"-*.*.rpm 2>/dev/null || true; }
	# want_rpm PACKAGE PATH...: PATH is an ERE (man pages: compressed or not)
	want_rpm() {
		local pkg=$1 path list
		shift
		list=$(rpmlist "$pkg")
		for path in "$@"; do
			if printf '%s\n' "$list" | grep -Eqx -- "$path"; then
				ok "rpm $pkg lists $path"
			else
				bad "rpm $pkg does not list $path"
			fi
		done
	}
	arch_rpm=$(ls "$dist/agentid-$version"-*.rpm 2>/dev/null | grep -v '\.src\.rpm$' | head -n 1)
	[ -n "$arch_rpm" ] && ok "binary rpm $(basename "$arch_rpm")" || bad "no agentid-$version binary rpm in $dist"
	ls "$dist/agentid-$version"-*.src.rpm >/dev/null 2>&1 && ok "source rpm" || bad "no source rpm"
	want_rpm agentid /usr/bin/agentid /etc/agentid.conf /etc/logrotate.d/agentid \
	    /usr/lib/systemd/system/agentid-sync.service \
	    /usr/lib/systemd/system/agentid-sync.timer \
	    /usr/share/agentid/schema/agentid.schema \
	    '/usr/share/man/man8/agentid\.8(\.gz)?' \
	    '/usr/share/man/man5/agentid\.conf\.5(\.gz)?' /var/lib/agentid /var/log/agentid
	want_rpm agentid '/usr/share/licenses/agentid(-[0-9.]+)?/LICENSE'
	want_rpm agentid-libs /usr/lib64/libagentid.so.0 \
	    /usr/lib64/agentid/agentid-ldap.so
	want_rpm agentid-pam /usr/lib64/security/pam_agent.so \
	    '/usr/share/man/man8/pam_agent\.8(\.gz)?'
	want_rpm agentid-nss /usr/lib64/libnss_agent.so.2 \
	    '/usr/share/man/man8/libnss_agent\.8(\.gz)?'
	if rpm -qcp "$arch_rpm" 2>/dev/null | grep -x /etc/agentid.conf >/dev/null; then
		ok "rpm: /etc/agentid.conf is %config"
	else
		bad "rpm: /etc/agentid.conf is not %config"
	fi
	if rpm -qp --dump "$arch_rpm" 2>/dev/null |
	    awk '$1 == "/etc/agentid.conf" { print $5 }' | grep -qx 0100600; then
		ok "rpm: /etc/agentid.conf mode 0600"
	else
		bad "rpm: /etc/agentid.conf mode is not 0600"
	fi
	if rpm -qp --scripts "$arch_rpm" 2>/dev/null | grep 'agentid-sync.timer' >/dev/null; then
		ok "rpm: scriptlets handle agentid-sync.timer"
	else
		bad "rpm: no scriptlet for agentid-sync.timer"
	fi
else
	bad "rpm is not installed (scripts/build-packages installs it)"
fi

# ---- install --------------------------------------------------------------------
echo "== install"
nss_sum=$(sha256sum /etc/nsswitch.conf)
pam_sum=$(cat /etc/pam.d/common-* | sha256sum)
touch "$MARKER"
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${debs[@]}" >"$work/install.log" 2>&1; then
	ok "apt-get install of the four packages"
else
	cat "$work/install.log" >&2
	bad "apt-get install"
	exit 1
fi
for p in "${PACKAGES[@]}"; do
	check "$p is installed" installed "$p"
done

check_path /usr/bin/agentid f 755
check_path "$LIBDIR/libagentid.so.0" l
check_path "$(readlink -f "$LIBDIR/libagentid.so.0")" f 644
check_path "$LIBDIR/security/pam_agent.so" f 644
check_path "$LIBDIR/agentid/agentid-ldap.so" f 644
check "agentid-ldap.so is in libagentid0" \
	sh -c "dpkg -S '$LIBDIR/agentid/agentid-ldap.so' | grep -q '^libagentid0:'"
check_path "$LIBDIR/libnss_agent.so.2" l
check_path "$(readlink -f "$LIBDIR/libnss_agent.so.2")" f 644
check_path /etc/agentid.conf f 600
check_path /lib/systemd/system/agentid-sync.service f 644
check_path /lib/systemd/system/agentid-sync.timer f 644
check_path /etc/logrotate.d/agentid f 644
check_path /usr/share/agentid/schema/agentid.schema f 644
check_path /usr/share/agentid/schema/agentid.ldif f 644
check_path /usr/share/pam-configs/agentid f 644
check_path /var/lib/agentid d 755
check_path /var/log/agentid d 700
for m in agentid pam_agent libnss_agent; do
	check_path "/usr/share/man/man8/$m.8.gz" f 644
done
check_path /usr/share/man/man5/agentid.conf.5.gz f 644
check_path /usr/share/doc/agentid/copyright f 644
check "debian/copyright names BSD-2-Clause" \
	grep -qx 'License: BSD-2-Clause' /usr/share/doc/agentid/copyright
check "no unversioned .so or .la is installed" \
	test ! -e "$LIBDIR/libnss_agent.so" -a ! -e "$LIBDIR/libagentid.so" \
	-a ! -e "$LIBDIR/security/pam_agent.la"
check "/etc/agentid.conf is a conffile of agentid" \
	sh -c "dpkg-query -W -f='\${Conffiles}\n' agentid | grep -q '^ /etc/agentid.conf '"
check "agentidd.service is enabled" \
	test -L /etc/systemd/system/multi-user.target.wants/agentidd.service
check "agentid-enforcer.service is enabled" \
	test -L /etc/systemd/system/multi-user.target.wants/agentid-enforcer.service
check "agentid-sync.timer is installed but not enabled (agentidd is)" \
	test ! -e /etc/systemd/system/timers.target.wants/agentid-sync.timer
check "ldconfig knows libnss_agent.so.2" sh -c "ldconfig -p | grep -q 'libnss_agent.so.2 '"
check "libnss_agent.so.2 links neither libldap nor libssl" \
	sh -c "! ldd '$LIBDIR/libnss_agent.so.2' | grep -Eq 'libldap|libssl|libcrypto'"
# sshd loads pam_agent.so per connection: LDAP only through the plugin
check "pam_agent.so loads no LDAP, TLS or SASL library" \
	sh -c "! ldd '$LIBDIR/security/pam_agent.so' | grep -Eq 'libldap|liblber|libgnutls|libsasl|libssl'"
check "/etc/nsswitch.conf untouched" sh -c "echo '$nss_sum' | sha256sum -c --quiet"
check "/etc/pam.d/common-* untouched (profile not enabled by default)" \
	sh -c "[ \"\$(cat /etc/pam.d/common-* | sha256sum)\" = '$pam_sum' ]"
v=$(agentid --version 2>&1)
if [ "$v" = "agentid $version" ]; then ok "agentid --version: $v"; else bad "agentid --version says '$v'"; fi

# ---- smoke test: slapd, agentid sync, NSS and PAM --------------------------------
echo "== smoke test"
. "$top/tests/integration/slapd-fixture.sh"
slapd_start || { bad "slapd_start"; exit 1; }
trap cleanup EXIT # slapd_start installed its own; cleanup calls slapd_stop
trap 'exit 130' INT
trap 'exit 143' TERM
slapd_load "$top/schema/examples.ldif" || { bad "loading schema/examples.ldif"; exit 1; }
conf="$work/agentid.conf"
# examples.ldif's agents are valid 2024..2099: longer than the 90d default
# of max_lifetime, which the smoke test is not about
slapd_write_conf "$conf" "replica $work/agents.cdb" "audit_log $work/log/audit.log" \
	"max_lifetime 36500d"
down="$work/down.conf"
slapd_write_conf "$down" "uri ldap://127.0.0.1:1" "timeout 2" \
	"audit_log $work/log/down.log" "replica $work/agents.cdb"
mkdir -m 0700 "$work/log"
if agentid --config "$conf" sync >"$work/sync.out" 2>&1; then
	ok "agentid sync: $(tail -n 1 "$work/sync.out")"
else
	cat "$work/sync.out" >&2
	bad "agentid sync"
fi

# Everything below runs in a private mount namespace.
cat >"$work/ns.sh" <<'EOF'
set -u
w=$1 conf=$2 down=$3
fails=0
t() { # t DESCRIPTION EXPECTED-STATUS COMMAND...: runs COMMAND, compares $?
	local what=$1 want=$2 got
	shift 2
	"$@" >"$w/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then echo "ok   $what"
	else echo "FAIL $what (status $got, want $want): $(head -c 300 "$w/out")" >&2; fails=$((fails + 1)); fi
}
has() { # has DESCRIPTION REGEX: the last command's output matches
	if grep -Eq -- "$2" "$w/out"; then echo "ok   $1"
	else echo "FAIL $1: output '$(head -c 300 "$w/out")' !~ /$2/" >&2; fails=$((fails + 1)); fi
}
mount --make-rprivate / 2>/dev/null
sed -e 's/^passwd:.*/passwd:         files agent/' \
    -e 's/^group:.*/group:          files agent/' /etc/nsswitch.conf >"$w/nsswitch.conf"
mount --bind "$w/nsswitch.conf" /etc/nsswitch.conf || exit 2
cp -a /etc/pam.d "$w/pam.d" && mount --bind "$w/pam.d" /etc/pam.d || exit 2
cp -a /var/lib/pam "$w/varlibpam" && mount --bind "$w/varlibpam" /var/lib/pam || exit 2
export AGENTID_REPLICA="$w/agents.cdb"

# NSS, through glibc and the installed module
t "getent passwd deploy-bot" 0 getent passwd deploy-bot
has "deploy-bot's passwd entry" '^deploy-bot:[^:]*:20001:20000:[^:]*:/home/deploy-bot:/bin/bash$'
t "getent passwd 20002 (old-bot, expired)" 0 getent passwd 20002
has "an expired agent gets the nologin shell" '^old-bot:.*:/usr/sbin/nologin$'
t "getent group agents" 0 getent group agents
has "group agents lists deploy-bot" '^agents:[^:]*:20000:.*deploy-bot'
t "id -Gn deploy-bot" 0 id -Gn deploy-bot
has "initgroups: deploy-bot is in deployers" '(^| )deployers( |$)'
t "getent passwd nosuchagent" 2 getent passwd nosuchagent
t "getent passwd root (files)" 0 getent passwd root

# pam-auth-update enables the profile only when asked
t "pam-auth-update --enable agentid" 0 pam-auth-update --enable agentid
t "common-account" 0 cat /etc/pam.d/common-account
has "common-account calls pam_agent.so" 'pam_agent\.so'
t "common-session" 0 cat /etc/pam.d/common-session
has "common-session calls pam_agent.so" 'pam_agent\.so'
# after pam_systemd (priority 0): the session is registered with its logind
# id, so the enforcer can end it through TerminateSession
if grep -q pam_systemd /etc/pam.d/common-session; then
	t "common-session: pam_agent.so after pam_systemd.so" 0 \
	    awk '/pam_systemd/ { s = NR } /pam_agent/ { a = NR }
	        END { exit !(s && a > s) }' /etc/pam.d/common-session
fi

# The enabled profile: local users skip pam_agent.so, agents meet it. The
# installed /etc/agentid.conf names no directory: pam_agent.so fails closed.
echo "account include common-account" >/etc/pam.d/agentid-pkgtest-stack
t "enabled profile: root (local user) passes" 0 pamtester agentid-pkgtest-stack root acct_mgmt
t "enabled profile: planner (agent), no directory configured -> denied" 1 \
	pamtester agentid-pkgtest-stack planner acct_mgmt
has "planner: PAM_AUTHINFO_UNAVAIL" 'cannot retrieve authentication info'

# PAM, through libpam and the installed module
cat >/etc/pam.d/agentid-pkgtest <<EOT
auth     required pam_permit.so
account  required pam_agent.so config=$conf
account  required pam_permit.so
session  required pam_permit.so
EOT
cat >/etc/pam.d/agentid-pkgtest-down <<EOT
auth     required pam_permit.so
account  required pam_agent.so config=$down
account  required pam_permit.so
EOT
t "pamtester: planner (allowed) -> success" 0 pamtester agentid-pkgtest planner acct_mgmt
t "pamtester: old-bot (expired) -> denied" 1 pamtester agentid-pkgtest old-bot acct_mgmt
has "old-bot: PAM_ACCT_EXPIRED" 'expired'
t "pamtester: build-bot (delegator revoked) -> denied" 1 pamtester agentid-pkgtest build-bot acct_mgmt
has "build-bot: PAM_PERM_DENIED" '[Pp]ermission denied'
t "pamtester: directory down -> denied" 1 pamtester agentid-pkgtest-down planner acct_mgmt
has "directory down: PAM_AUTHINFO_UNAVAIL" 'cannot retrieve authentication info'
exit "$fails"
EOF
unshare -m --propagation private bash "$work/ns.sh" "$work" "$conf" "$down"
st=$?
if [ "$st" -eq 0 ]; then ok "NSS and PAM smoke tests"; else bad "NSS and PAM smoke tests ($st failed)"; fi
if grep -Eq '"user":"planner".*"decision":"allow"|"decision":"allow".*"user":"planner"' \
    "$work/log/audit.log" 2>/dev/null; then
	ok "pam_agent audited planner's allow"
else
	bad "no allow of planner in the audit trail"
fi
check "agentid audit verify of the trail pam_agent wrote" agentid audit verify "$work/log/audit.log"
check "/etc/nsswitch.conf still untouched" sh -c "echo '$nss_sum' | sha256sum -c --quiet"
check "/etc/pam.d/common-* still untouched" \
	sh -c "[ \"\$(cat /etc/pam.d/common-* | sha256sum)\" = '$pam_sum' ]"
slapd_stop

# ---- remove, then purge -----------------------------------------------------------
echo "== remove and purge"
echo "stale" >/var/lib/agentid/agents.cdb
echo "{}" >/var/log/agentid/audit.log
if DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${PACKAGES[@]}" >"$work/remove.log" 2>&1; then
	ok "apt-get remove"
else
	cat "$work/remove.log" >&2
	bad "apt-get remove"
fi
check "remove keeps /etc/agentid.conf" test -f /etc/agentid.conf
check "remove keeps /var/lib/agentid/agents.cdb" test -f /var/lib/agentid/agents.cdb
check "remove takes pam_agent.so away" test ! -e "$LIBDIR/security/pam_agent.so"
if purge_all; then ok "apt-get purge"; else cat "$work/purge.log" >&2; bad "apt-get purge"; fi
for f in /etc/agentid.conf /var/lib/agentid /var/log/agentid /etc/logrotate.d/agentid \
    "$LIBDIR/security/pam_agent.so" "$LIBDIR"/libnss_agent.so* "$LIBDIR"/libagentid.so* \
    "$LIBDIR/agentid" \
    /usr/bin/agentid /lib/systemd/system/agentid-sync.service \
    /lib/systemd/system/agentid-sync.timer \
    /etc/systemd/system/timers.target.wants/agentid-sync.timer \
    /usr/share/pam-configs/agentid /usr/share/agentid; do
	check "purge leaves no $f" test ! -e "$f" -a ! -L "$f"
done
check "no package left in dpkg's database" \
	sh -c "! dpkg-query -W ${PACKAGES[*]} 2>/dev/null | grep -q ."
check "ldconfig forgot libnss_agent.so.2" sh -c "! ldconfig -p | grep -q libnss_agent"
check "/etc/pam.d/common-* without pam_agent" sh -c "! grep -q pam_agent /etc/pam.d/common-*"
check "/var/lib/pam/seen without agentid" sh -c "! grep -qx agentid /var/lib/pam/seen"
check "/etc/nsswitch.conf untouched after purge" sh -c "echo '$nss_sum' | sha256sum -c --quiet"
rm -f "$MARKER"

echo "== $checks checks, $fails failed, $(( $(date +%s) - start )) s"
[ "$fails" -eq 0 ]

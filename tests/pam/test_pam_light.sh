#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_pam_light.sh - what sshd loads for every connection stays light:
# pam_agent.so and libnss_agent.so.2 pull in no LDAP, TLS or SASL library
# at load time (directly or through another library: ldd), while the
# directory plugin agentid-ldap.so, which pam_agent.so opens only when a
# decision needs the directory, does and exports one symbol. That decisions
# against the directory still work through the plugin is
# tests/pam/test_pam_agent.sh's job (and tests/unit/test_dir_source's).
set -u
b=${top_builddir:-.}
fails=0
checks=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
for t in ldd readelf nm; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "*** SKIP: $t missing ***" >&2; exit 77; }
done
PAM=$b/pam_agent/.libs/pam_agent.so
NSS=$b/nss_agent/.libs/libnss_agent.so.2
PLUGIN=$b/common/.libs/agentid-ldap.so
for f in "$PAM" "$NSS" "$PLUGIN"; do
	[ -e "$f" ] || { echo "FAIL: $f not built" >&2; exit 1; }
done

# Libraries a login must not load: LDAP, its TLS stack and SASL, libssl.
HEAVY='^(libldap|liblber|libgnutls|libsasl2|libssl|libp11-kit|libnettle|libhogweed|libgmp)[-.]'

# deps SO: the sonames SO loads at load time, directly or not (ldd)
deps() {
	ldd "$1" | awk '$1 ~ /\.so/ { print $1 }' | sed 's,.*/,,' | sort -u
}

for so in "$PAM" "$NSS"; do
	name=${so##*/}
	checks=$((checks + 1))
	if ! all=$(deps "$so") || [ -z "$all" ]; then
		fail "$name: ldd gives nothing"
		continue
	fi
	heavy=$(grep -E "$HEAVY" <<<"$all" | tr '\n' ' ')
	if [ -z "$heavy" ]; then ok "$name loads no LDAP/TLS/SASL library"
	else fail "$name loads $heavy"; fi
	checks=$((checks + 1))
	undef=$(nm -D --undefined-only "$so" | awk '{print $2}' |
	    grep -E '^(ldap_|ber_|SSL_|sasl_|gnutls_)' | tr '\n' ' ')
	if [ -z "$undef" ]; then ok "$name calls no LDAP/TLS function"
	else fail "$name uses $undef"; fi
done

# pam_agent.so: libpam and libcrypto (both loaded in sshd already) are all
# it needs. tinycdb is linked in from Debian's PIC archive (configure falls
# back to libcdb.so without one); the audit records' JSON is written by
# hand (common/audit_format.c): no jansson.
checks=$((checks + 1))
needed=$(readelf -d "$PAM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
    grep -v -E '^lib(asan|ubsan|tsan|dl)\.so' | sort | tr '\n' ' ')
cdbpic=$(sed -n 's/^CDB_PIC = //p' "$b/Makefile" 2>/dev/null)
want="libc.so.6 libcrypto.so.3 libpam.so.0 "
[ -n "$cdbpic" ] || want="libc.so.6 libcdb.so.1 libcrypto.so.3 libpam.so.0 "
if [ "$needed" = "$want" ]; then
	ok "pam_agent.so needs $needed"
else
	fail "pam_agent.so needs '$needed'"
fi

# libpam dlopens the module at every pam_start and dlcloses it at pam_end:
# it is linked -z nodelete, so a process loads it (and its libraries) once
checks=$((checks + 1))
if readelf -d "$PAM" | grep -q 'FLAGS_1.*NODELETE'; then
	ok "pam_agent.so stays loaded once loaded (NODELETE)"
else
	fail "pam_agent.so is not linked -z nodelete"
fi

# The plugin is where LDAP went: the same check, turned around, shows the
# pattern above does match what it is meant to keep out.
checks=$((checks + 1))
if grep -qE '^libldap' <<<"$(deps "$PLUGIN")"; then
	ok "agentid-ldap.so loads libldap"
else
	fail "agentid-ldap.so does not load libldap: $(deps "$PLUGIN" | tr '\n' ' ')"
fi
checks=$((checks + 1))
exported=$(nm -D --defined-only "$PLUGIN" | awk '{print $3}' | tr '\n' ' ')
if [ "$exported" = "agentid_dir_plugin_v1 " ]; then
	ok "agentid-ldap.so exports only agentid_dir_plugin_v1"
else
	fail "agentid-ldap.so exports $exported"
fi

echo "$checks checks, $fails failures"
[ $fails -eq 0 ]

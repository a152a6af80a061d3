#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_nss_abi.sh - libnss_agent.so.2 is a thin client: soname
# libnss_agent.so.2, needs libc and libcdb only (never libagentid, libldap,
# OpenSSL or jansson), and exports only _nss_agent_* functions.
set -u
so=${top_builddir:-.}/nss_agent/.libs/libnss_agent.so.2
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
command -v readelf >/dev/null 2>&1 || { echo "*** SKIP: readelf missing ***" >&2; exit 77; }
[ -e "$so" ] || { echo "FAIL: $so not built" >&2; exit 1; }

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libnss_agent.so.2 ] && echo "ok: soname $soname" || fail "soname '$soname'"

needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
    grep -v -E '^lib(asan|ubsan|tsan)\.so' | sort | tr '\n' ' ')
[ "$needed" = "libc.so.6 libcdb.so.1 " ] && echo "ok: needs $needed" ||
    fail "needs '$needed', wanted only libc.so.6 and libcdb.so.1"

exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ')
want="_nss_agent_endgrent _nss_agent_endpwent _nss_agent_getgrent_r _nss_agent_getgrgid_r _nss_agent_getgrnam_r _nss_agent_getpwent_r _nss_agent_getpwnam_r _nss_agent_getpwuid_r _nss_agent_initgroups_dyn _nss_agent_setgrent _nss_agent_setpwent "
[ "$exported" = "$want" ] && echo "ok: exports only _nss_agent_*" ||
    fail "exports: $exported"

undef=$(nm -D --undefined-only "$so" | awk '{print $2}' |
    grep -E '^(agentid_|ldap_|ber_|SSL_|EVP_|json_)' | tr '\n' ' ')
[ -z "$undef" ] && echo "ok: no libagentid/LDAP/OpenSSL/jansson symbol" ||
    fail "uses $undef"

echo "4 checks, $fails failures"
[ $fails -eq 0 ]

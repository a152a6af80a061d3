#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test_sample_conf.sh - packaging/agentid.conf mentions every key that
# common/config.c accepts ("#key value"), and no key it does not accept.
set -u
src=${top_srcdir:-.}
conf="$src/packaging/agentid.conf"
table="$src/common/config.c"

keys=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", K_[A-Z_]*,.*/\1/p' "$table")
if [ -z "$keys" ]; then
	echo "FAIL: no key table found in $table (format changed?)" >&2
	exit 1
fi
status=0
n=0
for k in $keys; do
	n=$((n + 1))
	if ! grep -q "^#$k " "$conf"; then
		echo "FAIL: $conf has no \"#$k ...\" line" >&2
		status=1
	fi
done
for k in $(sed -n 's/^#\([a-z_]*\) .*/\1/p' "$conf" | sort -u); do
	if ! printf '%s\n' $keys | grep -qx "$k"; then
		echo "FAIL: $conf shows \"$k\", which common/config.c does not accept" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "ok: all $n keys of common/config.c are in packaging/agentid.conf"
exit "$status"

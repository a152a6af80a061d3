#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test_sshcert.sh - makes keys and certificates with ssh-keygen into a
# temporary directory, then runs the cmocka test of the certificate parser
# (tests/unit/test_sshcert DIR) on them.
set -eu

builddir=${top_builddir:-.}
prog="$builddir/tests/unit/test_sshcert"
if ! command -v ssh-keygen >/dev/null 2>&1; then
	echo "SKIP: ssh-keygen not found (Debian: openssh-client)" >&2
	exit 77
fi
if [ ! -x "$prog" ]; then
	echo "FAIL: $prog not built" >&2
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/agentid-sshcert.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
cd "$dir"

gen() { # gen NAME TYPE [BITS]
	if [ $# -ge 3 ]; then
		ssh-keygen -q -t "$2" -b "$3" -N '' -C "$1" -f "$1"
	else
		ssh-keygen -q -t "$2" -N '' -C "$1" -f "$1"
	fi
}
fp() { # fp FILE: the SHA256 fingerprint ssh-keygen -l prints
	ssh-keygen -lf "$1" | awk '{print $2}'
}
sign() { # sign CA KEY OUT [ssh-keygen options...]
	ca=$1 key=$2 out=$3
	shift 3
	cp "$key.pub" "$out.pub"
	ssh-keygen -q -s "$ca" "$@" "$out.pub" 2>/dev/null || { rm -f "$out.pub"; return 1; }
	rm -f "$out.pub"
}

EXT="-O extension:task@agentid=TASK-42 -O extension:on-behalf-of@agentid=alice@example.com"
for t in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa; do
	case $t in
	ed25519) gen "ca-$t" ed25519; gen "key-$t" ed25519 ;;
	ecdsa*) bits=${t#ecdsa}; gen "ca-$t" ecdsa "$bits"; gen "key-$t" ecdsa "$bits" ;;
	rsa) gen "ca-$t" rsa 2048; gen "key-$t" rsa 2048 ;;
	esac
	# shellcheck disable=SC2086
	sign "ca-$t" "key-$t" "$t" -I "key id $t" -n bot,alice -z 4242 -V -5m:+1h $EXT
	fp "$t-cert.pub" > "$t.fp"
	fp "ca-$t.pub" > "ca-$t.fp"
done
sign ca-ed25519 key-ed25519 noext -I noext -n bot -z 1 -V -5m:+1h -O clear
sign ca-ed25519 key-ed25519 expired -I expired -n bot -z 2 -V 20200101:20200102
sign ca-ed25519 key-ed25519 future -I future -n bot -z 3 -V +1d:+2d
sign ca-ed25519 key-ed25519 host -I host -n bot -z 4 -h -V -5m:+1h
sign ca-ed25519 key-ed25519 noprinc -I noprinc -z 5 -V -5m:+1h
sign ca-ed25519 key-ed25519 forever -I forever -n bot -z 6
sign ca-ed25519 key-ed25519 crit -I crit -n bot -z 7 -V -5m:+1h \
	-O critical:unknown@example.com=x
sign ca-ed25519 key-ed25519 forcecmd -I forcecmd -n bot -z 8 -V -5m:+1h \
	-O force-command=/usr/bin/true -O source-address=127.0.0.1/32,::1
sign ca-rsa key-ed25519 rsa512 -I rsa512 -n bot -z 9 -V -5m:+1h -t rsa-sha2-512
sign ca-rsa key-ed25519 rsa256 -I rsa256 -n bot -z 10 -V -5m:+1h -t rsa-sha2-256
# the SHA-1 signature that must be refused; some builds no longer make it
sign ca-rsa key-ed25519 sha1 -I sha1 -n bot -z 11 -V -5m:+1h -t ssh-rsa || true
sign ca-ecdsa384 key-rsa crossed -I crossed -n bot -z 12 -V -5m:+1h
cp key-ed25519.pub plain.pub
fp plain.pub > plain.fp

"$prog" "$dir"

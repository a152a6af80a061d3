#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sealing.sh - forward-secure sealing (issue 14), with short intervals and
# record times chosen by the test (no waiting, no timed assertions):
# keygen and its key file; seals over many intervals verify with the key;
# the attack that beat the unkeyed chain (records removed, seq and prev
# recomputed) fails with the key and names the interval; a cut tail and a
# cut head show; a wrong or malformed key is a clear error; a removed or
# unsafe key stops sealing but never stops a record; "audit seal" seals a
# quiet interval; the host keeps only the current key; rotation.
set -eu
: "${top_builddir:?}"
writer="$top_builddir/tests/audit/audit_writer"
agentid="$top_builddir/agentid"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentid-audit-seal.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v sha256sum >/dev/null 2>&1 || { echo "SKIP: no sha256sum"; exit 77; }

T0=1790000000                  # 2026-09-21T14:13:20Z
mkdir -m 700 "$tmp/log"
log="$tmp/log/audit.log"
key="$tmp/log/audit.seal"
conf="$tmp/agentid.conf"
printf 'audit_log %s\naudit_seal_interval 60\n' "$log" > "$conf"
chmod 600 "$conf"

# run CODE PATTERN CMD... : exit code and a pattern in stdout+stderr
run() {
	code=$1 pattern=$2
	shift 2
	set +e
	"$@" >"$tmp/out" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq "$code" ] || { cat "$tmp/out" >&2; fail "$*: exit $rc, expected $code"; }
	[ -z "$pattern" ] || grep -q -- "$pattern" "$tmp/out" || {
		cat "$tmp/out" >&2
		fail "$*: no '$pattern' in the output"
	}
}

# --- keygen: verification key on stdout, key file 0600 beside the trail
vkey=$("$agentid" --config "$conf" audit keygen --now "$T0" 2>"$tmp/keygen.err")
echo "$vkey" | grep -q '^agentid-seal-v1:1789999980:60:[0-9a-f]\{64\}$' ||
	fail "keygen printed '$vkey'"
grep -q "VERIFICATION KEY" "$tmp/keygen.err" || fail "keygen: no explanation"
[ "$(stat -c %a "$key")" = 600 ] || fail "key file mode $(stat -c %a "$key")"
[ "$(stat -c %u "$key")" = "$(id -u)" ] || fail "key file owner"
seed=${vkey##*:}
grep -q "$seed" "$key" || fail "the initial key file should hold key(0)"
run 2 "already exists" "$agentid" --config "$conf" audit keygen --now "$T0"

# --- 60 records 20 s apart: 20 intervals, a seal at the first append of each
"$writer" --seal-key "$key" --ts "$T0" --step 20 "$log" 60
seals=$(grep -c '"event":"seal"' "$log")
[ "$seals" -eq 20 ] || fail "$seals seal lines, expected 20"
cp "$log" "$tmp/orig"
# the host no longer holds any earlier key: not key(0), and epoch 20
grep -q "$seed" "$key" && fail "key(0) still on disk after the key moved on"
grep -q '^epoch 00000000000000000020$' "$key" || fail "key not at interval 20"
last_ts=$((T0 + 59 * 20))
run 0 "intervals 0..19, all good" "$agentid" audit verify --key "$vkey" --now "$last_ts" --strict "$log"
grep -q "^unsealed: 1 line " "$tmp/out" || fail "unsealed count"
grep -q "missing" "$tmp/out" && fail "nothing is missing at the last record"
# the key may come from a file
printf '%s\n' "$vkey" > "$tmp/vkey"
run 0 "all good" "$agentid" audit verify --key "$tmp/vkey" --now "$last_ts" "$log"

# --- the attack: 14 records removed, seq and prev recomputed
recompute() { # IN OUT: seq from 1, prev chained from zeros
	prev=0000000000000000000000000000000000000000000000000000000000000000
	seq=0
	: > "$2"
	while IFS= read -r line; do
		seq=$((seq + 1))
		line=$(printf '%s\n' "$line" | sed "s/\"seq\":[0-9]*,\"prev\":\"[0-9a-f]*\"}\$/\"seq\":$seq,\"prev\":\"$prev\"}/")
		printf '%s\n' "$line" >> "$2"
		prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
	done < "$1"
}
# the 14 records after line 20 that are not seals
awk 'NR > 20 && !/"event":"seal"/ && n < 14 { n++; next } { print }' \
	"$tmp/orig" > "$tmp/cut"
[ "$(wc -l < "$tmp/cut")" -eq $(($(wc -l < "$tmp/orig") - 14)) ] || fail "awk cut"
recompute "$tmp/cut" "$log"
# the unkeyed chain cannot see it ...
run 0 "intact" "$agentid" audit verify "$log"
# ... the seals can, and name the first interval whose seal fails
first=$(awk 'NR > 20 && /"event":"seal"/ { print; exit }' "$log" |
	sed 's/.*"interval":\([0-9]*\),.*/\1/')
run 1 "interval $first (.*): the seal does not verify" \
	"$agentid" audit verify --key "$vkey" --now "$last_ts" "$log"
grep -q "TAMPERED" "$tmp/out" || fail "attack: no TAMPERED"

# the same with every seal after the cut removed too: the tail shows
head -n 20 "$tmp/cut" > "$tmp/cut2"
awk 'NR > 20 && !/"event":"seal"/' "$tmp/cut" >> "$tmp/cut2"
recompute "$tmp/cut2" "$log"
run 0 "tail: last seal .*intervals missing" \
	"$agentid" audit verify --key "$vkey" --now "$last_ts" "$log"
run 1 "INCOMPLETE" "$agentid" audit verify --key "$vkey" --now "$last_ts" --strict "$log"

# --- a middle line rewritten, chain recomputed: only the key sees it
sed '30s/"decision":"deny"/"decision":"allow"/;30s/"decision":"error"/"decision":"allow"/' \
	"$tmp/orig" > "$tmp/edit"
cmp -s "$tmp/edit" "$tmp/orig" && sed '30s/"user":"bot-w-[0-9]*"/"user":"nobody"/' "$tmp/orig" > "$tmp/edit"
cmp -s "$tmp/edit" "$tmp/orig" && fail "could not edit line 30"
recompute "$tmp/edit" "$log"
run 0 "intact" "$agentid" audit verify "$log"
run 1 "the seal does not verify" "$agentid" audit verify --key "$vkey" --now "$last_ts" "$log"

# --- cut tail: the last 30 lines gone (no recomputation needed)
head -n -30 "$tmp/orig" > "$log"
run 0 "intact" "$agentid" audit verify "$log"
run 0 "tail: last seal 2026-09-21T14:2[0-9]:00Z; now 2026-09-21T14:33:00Z: [0-9]* intervals missing" \
	"$agentid" audit verify --key "$vkey" --now "$last_ts" "$log"
run 1 "INCOMPLETE" "$agentid" audit verify --key "$vkey" --now "$last_ts" --strict "$log"

# --- cut head: lines 1-25 gone
tail -n +26 "$tmp/orig" > "$log"
run 0 "start: no seal for intervals 0\.\." "$agentid" audit verify --key "$vkey" --now "$last_ts" "$log"
run 1 "INCOMPLETE" "$agentid" audit verify --key "$vkey" --now "$last_ts" --strict "$log"

# --- a wrong key, a malformed key
printf 'audit_log %s\naudit_seal_key %s\naudit_seal_interval 60\n' \
	"$tmp/other.log" "$tmp/other.seal" > "$tmp/other.conf"
chmod 600 "$tmp/other.conf"
other=$("$agentid" --config "$tmp/other.conf" audit keygen --now "$T0" 2>/dev/null)
cp "$tmp/orig" "$log"
run 1 "sealed with another key" "$agentid" audit verify --key "$other" "$log"
run 2 "not a verification key" "$agentid" audit verify --key "agentid-seal-v1:1:2:abc" "$log"
run 2 "No such file" "$agentid" audit verify --key "$tmp/nokey" "$log"

# --- "audit seal" seals a quiet interval; twice in it adds nothing
"$agentid" --config "$conf" audit seal --now $((last_ts + 60))
n1=$(grep -c '"event":"seal"' "$log")
[ "$n1" -eq 21 ] || fail "audit seal: $n1 seal lines, expected 21"
"$agentid" --config "$conf" audit seal --now $((last_ts + 70))
[ "$(grep -c '"event":"seal"' "$log")" -eq 21 ] || fail "audit seal sealed twice"
run 0 "intervals 0..20, all good" "$agentid" audit verify --key "$vkey" --now $((last_ts + 70)) --strict "$log"

# --- rotation: the old file and the new one verify as one sealed trail
mv "$log" "$log.1"
"$writer" --seal-key "$key" --ts $((last_ts + 400)) --step 20 "$log" 10
run 0 "all good" "$agentid" audit verify --key "$vkey" --now $((last_ts + 600)) "$log.1" "$log"
run 0 "start: no seal for intervals" "$agentid" audit verify --key "$vkey" --now $((last_ts + 600)) "$log"

# --- an unsafe key file is not used (and a record is still written)
before=$(grep -c '"event":"seal"' "$log")
chmod 644 "$key"
"$writer" --seal-key "$key" --ts $((last_ts + 900)) "$log" 1 || fail "unsafe key blocked a record"
[ "$(grep -c '"event":"seal"' "$log")" -eq "$before" ] || fail "sealed with a 0644 key"
chmod 600 "$key"
# --- a removed key stops sealing, never the records
rm -f "$key"
"$writer" --seal-key "$key" --ts $((last_ts + 2000)) "$log" 2 || fail "no key blocked a record"
[ "$(grep -c '"event":"seal"' "$log")" -eq "$before" ] || fail "sealed without a key"
run 2 "no sealing key" "$agentid" --config "$conf" audit seal --now $((last_ts + 3000))
run 0 "tail: last seal" "$agentid" audit verify --key "$vkey" --now $((last_ts + 3000)) "$log.1" "$log"
echo "PASS: sealing"

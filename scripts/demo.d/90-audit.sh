# SPDX-License-Identifier: BSD-2-Clause
# scripts/demo.d/90-audit.sh - the last part: the audit trail of the whole
# demo, checked with the verification key "agentid audit keygen" printed
# before the first decision (scripts/demo). The demo seals every 2 s
# (audit_seal_interval); "agentid audit seal" seals the interval that just
# ended, as a timer would on a host without agentidd, so the last lines are
# covered too.
#
# Sourced by scripts/demo (needs its AGENTID, CONF, DEMO_SEAL_KEY, say).

say "The sealed audit trail: agentid audit verify --key KEY"
echo "Every decision and every lifecycle write above is a line of the trail;"
echo "each interval's lines are sealed with a key the host has since forgotten."
# just past the next 2 s boundary: the interval holding the last lines
# has ended, and seal and verify run well inside the next one
sleep "$(awk -v t="$(date +%s.%N)" 'BEGIN { printf "%.3f", 2.1 - (t % 2) }')"
printf '\n$ agentid audit seal\n'
"$AGENTID" --config "$CONF" audit seal
printf '\n$ agentid audit verify --key %s\n' "${DEMO_SEAL_KEY%%:*}:..."
"$AGENTID" --config "$CONF" audit verify --key "$DEMO_SEAL_KEY"
echo "(exit $?)"

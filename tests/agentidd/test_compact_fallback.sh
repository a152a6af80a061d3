#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_compact_fallback.sh - test_equivalence.sh with agentidd's
# background compaction failing on purpose (AGENTIDD_TEST_COMPACT_FAIL):
# the synchronous compaction it falls back to must keep every decision and
# the NSS replica equal to the directory's.
export AGENTIDD_TEST_COMPACT_FAIL=1
export AGENTID_EQUIV_N=${AGENTID_EQUIV_N:-200}
exec "${top_srcdir:-.}/tests/agentidd/test_equivalence.sh" "$@"

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_fuzz_brief.sh - make check's short libFuzzer run: every fuzz target
# of tests/fuzz built with clang's libFuzzer and run FUZZ_BRIEF_SECONDS
# (default 3) from its corpus; fails on any crash, leak, timeout or
# sanitizer report. SKIP (77) when clang's libFuzzer is not installed: the
# corpus replay (tests/fuzz/fuzz_* under the tree's sanitizers) still runs.
# The long run is `make fuzz` (FUZZ_SECONDS, default 60 per target).
src=${top_srcdir:-.}
# scripts/test runs the brief pass once, in its main build; the second
# configuration of `make distcheck` only replays the corpora
if [ "${AGENTID_FUZZ_BRIEF:-}" = skip ]; then
	echo "SKIP: the brief libFuzzer run already ran in this scripts/test" >&2
	exit 77
fi
FUZZ_SECONDS=${FUZZ_BRIEF_SECONDS:-3} exec bash "$src/tests/fuzz/libfuzzer.sh" run

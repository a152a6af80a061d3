# SPDX-License-Identifier: BSD-2-Clause
# faults: the directory under faults against every front (PAM, check,
# principals, agentidd and NSS), and a replicated directory whose provider
# is killed and stopped while decisions run (issue 15, items 1 and 2).
# Owner: faults. Both run as root (agentidd's user and NSS in a private
# namespace; SKIP otherwise) and skip under AGENTID_DISTCHECK=1, as the
# long agentidd tests do.
FAULTS_TESTS = tests/faults/test_dir_faults.sh \
	tests/faults/test_replicated_faults.sh
dist_check_SCRIPTS += $(FAULTS_TESTS)
TESTS += $(FAULTS_TESTS)
# tests/faults/fault_proxy.py: an ldaps:// server in front of slapd that
# fails on command (down, latency, bad certificates, drop, garbage)
EXTRA_DIST += tests/faults/faults-lib.sh tests/faults/fault_proxy.py

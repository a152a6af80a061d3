/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_audit.c - fuzz target: one audit trail line through the strict
 * scanner every verification uses (common/audit_scan.c), its "ts", and the
 * sealing key file and verification key parsers (common/audit_seal.c).
 */
#include "config.h"

#include "audit_internal.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_fields f;
	struct audit_seal_state st;
	unsigned char seed[AUDIT_SEAL_KEY_LEN];
	const char *why = NULL;
	int64_t t, start, len;
	char *s;

	if (audit_parse_line((const char *)data, size, &f, &why) == 0) {
		(void)audit_is_seal(&f);
		if (f.ts == NULL || f.prev == NULL)
			abort(); /* promised by a successful parse */
		(void)audit_parse_ts(f.ts, f.ts_len, &t);
	} else if (why == NULL) {
		abort(); /* a refusal always says why */
	}
	(void)audit_parse_ts((const char *)data, size, &t);
	(void)audit_seal_state_parse((const char *)data, size, &st);
	if ((s = fuzz_cstr(data, size)) != NULL) {
		(void)audit_seal_vkey_parse(s, &start, &len, seed);
		free(s);
	}
	return 0;
}

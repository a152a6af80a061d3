/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_audit_format.c - fuzz target: the audit record writer
 * (common/audit_format.c, JSON written by hand) against jansson. The input,
 * cut at NUL bytes, fills the string fields an agent or a directory writer
 * controls (and a few numbers). The line must load in jansson (duplicate
 * keys refused), dump back from it byte for byte (what json_dumps wrote
 * before the writer replaced it), keep the values' count of keys, and pass
 * the scanner verification uses.
 */
#include "config.h"

#include <jansson.h>

#include "agentid.h"
#include "audit_internal.h"
#include "fuzz_util.h"

#define N_TEXT 12

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prev[] =
	    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_record rec[2];
	struct agentid_chain chain;
	struct audit_fields af;
	const char *t[N_TEXT], *why = NULL;
	json_error_t jerr;
	uint64_t num = 0;
	char *buf, *p, *line, *again;
	json_t *o;
	size_t i, n = 0;

	if ((buf = fuzz_cstr(data, size)) == NULL)
		return 0;
	/* the first 8 bytes, when there are so many, are numbers' bits */
	for (i = 0; i < 8 && i < size; i++)
		num = num << 8 | data[i];
	/* strings: the input cut at each NUL (fuzz_cstr stops at the first) */
	p = buf;
	for (n = 0; n < N_TEXT; n++) {
		t[n] = p;
		while ((size_t)(p - buf) < size && *p != '\0')
			p++;
		if ((size_t)(p - buf) < size)
			p++;
	}
	memset(&ev, 0, sizeof(ev));
	memset(&d, 0, sizeof(d));
	memset(rec, 0, sizeof(rec));
	rec[0].dn = (char *)t[0];
	rec[0].is_agent = true;
	rec[1].dn = (char *)t[1];
	chain.rec = rec;
	chain.n = 2;
	d.allow = (num & 1) != 0;
	d.reason = d.allow ? AGENTID_OK : AGENTID_EXPIRED;
	d.has_window = (num & 2) != 0;
	d.not_after = (int64_t)num;
	ev.ts = (int64_t)(num >> 1);
	ev.host = t[2];
	ev.event = "account";
	ev.service = t[3];
	ev.user = t[4];
	ev.decision = &d;
	ev.chain = &chain;
	ev.rhost = t[5];
	ev.tty = t[6];
	ev.pid = (pid_t)(num & 0x7fffffff);
	ev.cert_key_id = t[7];
	ev.has_cert_serial = true;
	ev.cert_serial = num;
	ev.cert_ca = t[8];
	ev.task = t[9];
	ev.on_behalf_of = t[10];
	ev.culprit = t[11];
	ev.has_audit_session = (num & 4) != 0;
	ev.audit_session = (uint32_t)num;
	ev.duration = (int64_t)num;
	ev.has_signalled = true;
	ev.signalled = num;
	if ((line = audit_format_record(&ev, NULL, num, prev)) == NULL) {
		free(buf);
		return 0; /* out of memory */
	}
	if ((o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		abort(); /* not JSON, or a key twice */
	if ((again = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		abort();
	if (strcmp(line, again) != 0)
		abort(); /* not what jansson writes */
	if (!json_is_string(json_object_get(o, "prev")) ||
	    strcmp(json_string_value(json_object_get(o, "prev")), prev) != 0)
		abort(); /* a value wrote over the chain's link */
	if (audit_parse_line(line, strlen(line), &af, &why) != 0)
		abort(); /* verification would refuse its own trail */
	free(again);
	json_decref(o);
	free(line);
	free(buf);
	return 0;
}

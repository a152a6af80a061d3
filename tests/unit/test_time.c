/* SPDX-License-Identifier: BSD-2-Clause */
/* test_time.c - GeneralizedTime, durations and time formatting. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agentid.h"

static int64_t
gt(const char *s)
{
	int64_t t = -1;

	assert_int_equal(agentid_parse_gentime(s, &t), 0);
	return t;
}

static void
test_gentime_basic(void **state)
{
	(void)state;
	assert_int_equal(gt("19700101000000Z"), 0);
	assert_int_equal(gt("20261124041722Z"), 1795493842);
	assert_int_equal(gt("20000229235959Z"), 951868799);
}

static void
test_gentime_reduced_precision(void **state)
{
	(void)state;
	assert_int_equal(gt("2026112404Z"), gt("20261124040000Z"));
	assert_int_equal(gt("202611240417Z"), gt("20261124041700Z"));
}

static void
test_gentime_fractions(void **state)
{
	(void)state;
	/* fraction of a second is dropped, of a minute or hour scales it */
	assert_int_equal(gt("20261124041722.999Z"), gt("20261124041722Z"));
	assert_int_equal(gt("20261124041722,5Z"), gt("20261124041722Z"));
	assert_int_equal(gt("202611240417.5Z"), gt("20261124041730Z"));
	assert_int_equal(gt("2026112404.25Z"), gt("20261124041500Z"));
}

static void
test_gentime_offsets(void **state)
{
	(void)state;
	assert_int_equal(gt("20261124061722+0200"), gt("20261124041722Z"));
	assert_int_equal(gt("20261123231722-0500"), gt("20261124041722Z"));
	assert_int_equal(gt("20261124051722+01"), gt("20261124041722Z"));
	assert_int_equal(gt("20261124095222+0535"), gt("20261124041722Z"));
}

static void
test_gentime_rejects(void **state)
{
	static const char *const bad[] = {
		"", "2026", "20261124041722", "20261124041722z", "20261124041722Q",
		"20261324041722Z", "20261100041722Z", "20260230041722Z",
		"20261124241722Z", "20261124046022Z", "20261124041722.Z",
		"20261124041722+2400", "20261124041722+0160", "20261124041722+1",
		"20261124041722Z ", " 20261124041722Z", "2026112404172Z",
		"20261124041722+0000x", "2026-11-24T04:17:22Z", "20250229000000Z",
	};
	int64_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (agentid_parse_gentime(bad[i], &t) != EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(agentid_parse_gentime(NULL, &t), EINVAL);
}

static void
test_duration(void **state)
{
	int64_t d;

	(void)state;
	assert_int_equal(agentid_parse_duration("30s", &d), 0);
	assert_int_equal(d, 30);
	assert_int_equal(agentid_parse_duration("15m", &d), 0);
	assert_int_equal(d, 900);
	assert_int_equal(agentid_parse_duration("12h", &d), 0);
	assert_int_equal(d, 43200);
	assert_int_equal(agentid_parse_duration("90d", &d), 0);
	assert_int_equal(d, 90 * 86400);
	assert_int_equal(agentid_parse_duration("0", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(agentid_parse_duration("7", &d), 0);
	assert_int_equal(d, 7);
}

static void
test_duration_rejects(void **state)
{
	static const char *const bad[] = {
		"", "s", "-5s", "+5s", "5x", "5 s", "5ss", "1.5h", "99999999999999999999d",
		"5d ", "d5", "5w",
	};
	int64_t d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (agentid_parse_duration(bad[i], &d) != EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
test_format_time(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(agentid_format_time(0, buf, sizeof(buf)),
	    "1970-01-01T00:00:00Z");
	assert_string_equal(agentid_format_time(gt("20261124041722Z"), buf,
	    sizeof(buf)), "2026-11-24T04:17:22Z");
	assert_string_equal(agentid_format_time(gt("20000229235959Z"), buf,
	    sizeof(buf)), "2000-02-29T23:59:59Z");
	assert_string_equal(agentid_format_time(-1, buf, sizeof(buf)),
	    "1969-12-31T23:59:59Z");
}

static void
test_format_duration(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(agentid_format_duration(0, buf, sizeof(buf)), "0s");
	assert_string_equal(agentid_format_duration(90 * 86400, buf, sizeof(buf)), "90d");
	assert_string_equal(agentid_format_duration(5400, buf, sizeof(buf)), "1h30m");
	assert_string_equal(agentid_format_duration(-61, buf, sizeof(buf)), "-1m1s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gentime_basic),
		cmocka_unit_test(test_gentime_reduced_precision),
		cmocka_unit_test(test_gentime_fractions),
		cmocka_unit_test(test_gentime_offsets),
		cmocka_unit_test(test_gentime_rejects),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_rejects),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_format_duration),
	};

	return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}

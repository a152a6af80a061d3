/* SPDX-License-Identifier: BSD-2-Clause */
/* timeutil.c - GeneralizedTime, durations and time formatting (pure). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "agentid.h"
#include "internal.h"

/* Days since the epoch for y-m-d (Howard Hinnant's civil algorithm). */
int64_t
agentid_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Reads n decimal digits at *p; returns -1 if any is not a digit. */
static int
digits(const char **p, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/*
 * Parses GeneralizedTime as RFC 4517 3.3.13 allows: YYYYMMDDHH[MM[SS]]
 * [(.|,)fraction] then Z or +hhmm/-hhmm. A fraction of a missing minute or
 * second scales that unit. Returns 0 or EINVAL.
 */
int
agentid_parse_gentime(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi = 0, sec = 0, oh, om, sign;
	int64_t t, unit, frac_num = 0, frac_den = 1;

	if (s == NULL)
		return EINVAL;
	if ((y = digits(&p, 4)) < 0 || (mo = digits(&p, 2)) < 0 ||
	    (d = digits(&p, 2)) < 0 || (h = digits(&p, 2)) < 0)
		return EINVAL;
	unit = 3600;
	if (*p >= '0' && *p <= '9') {
		if ((mi = digits(&p, 2)) < 0)
			return EINVAL;
		unit = 60;
		if (*p >= '0' && *p <= '9') {
			if ((sec = digits(&p, 2)) < 0)
				return EINVAL;
			unit = 1;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return EINVAL;
	if (*p == '.' || *p == ',') {
		int nd = 0;

		p++;
		if (*p < '0' || *p > '9')
			return EINVAL;
		while (*p >= '0' && *p <= '9') {
			if (nd < 9) {
				frac_num = frac_num * 10 + (*p - '0');
				frac_den *= 10;
			}
			nd++;
			p++;
		}
	}
	t = agentid_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    (int64_t)h * 3600 + (int64_t)mi * 60 + (sec == 60 ? 59 : sec);
	t += frac_num * unit / frac_den; /* whole seconds; sub-second dropped */
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if ((oh = digits(&p, 2)) < 0 || oh > 23)
			return EINVAL;
		om = 0;
		if (*p != '\0' && (om = digits(&p, 2)) < 0)
			return EINVAL;
		if (om > 59)
			return EINVAL;
		/* local = UTC + offset, so UTC = local - offset */
		t -= sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
	} else {
		return EINVAL; /* local time without a zone is ambiguous */
	}
	if (*p != '\0')
		return EINVAL;
	*out = t;
	return 0;
}

/* Parses "30s", "15m", "12h", "90d" or a bare number of seconds. */
int
agentid_parse_duration(const char *s, int64_t *out)
{
	int64_t v = 0, mult = 1;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return EINVAL;
		v = v * 10 + (*p++ - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 's':
		mult = 1;
		p++;
		break;
	case 'm':
		mult = 60;
		p++;
		break;
	case 'h':
		mult = 3600;
		p++;
		break;
	case 'd':
		mult = 86400;
		p++;
		break;
	default:
		return EINVAL;
	}
	if (*p != '\0' || v > INT64_MAX / mult / 4)
		return EINVAL;
	*out = v * mult;
	return 0;
}

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
char *
agentid_format_time(int64_t t, char *buf, size_t len)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	int64_t z = days + 719468, era, doe, yoe, y, doy, mp, d, m;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, len, "%04" PRId64 "-%02" PRId64 "-%02" PRId64
	    "T%02" PRId64 ":%02" PRId64 ":%02" PRId64 "Z", y, m, d,
	    secs / 3600, secs / 60 % 60, secs % 60);
	return buf;
}

/* Formats secs as "90d", "2h30m", "45s" (largest units first, "0s" for 0). */
char *
agentid_format_duration(int64_t secs, char *buf, size_t len)
{
	static const struct { int64_t n; char u; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t i, off = 0;
	bool neg = secs < 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (neg) {
		secs = -secs;
		off += (size_t)snprintf(buf, len, "-");
	}
	for (i = 0; i < 4 && off < len; i++) {
		if (secs >= units[i].n) {
			off += (size_t)snprintf(buf + off, len - off, "%" PRId64 "%c",
			    secs / units[i].n, units[i].u);
			secs %= units[i].n;
		}
	}
	if (buf[0] == '\0' || (neg && buf[1] == '\0'))
		snprintf(buf, len, "0s");
	return buf;
}

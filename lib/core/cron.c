/* Cron expressions: the parser and the next-fire-time search.
 *
 * A schedule is one bit set per field. The search walks civil time (the
 * calendar fields, in UTC or in local time) from the first second after the
 * given time, jumping straight to the next allowed month, day, hour, minute
 * and second with carries, so a schedule that fires once in years costs a few
 * thousand steps, not millions. Civil arithmetic is our own (days from the
 * civil date and back) so UTC needs no libc time functions at all; local
 * time converts only the candidates it finds, with mktime(). */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "date.h"
#include "faas/common.h"
#include "faas/cron.h"
#include "faas/errors.h"

struct faas_cron {
	uint64_t sec;  /* bit n: second n */
	uint64_t min;  /* bit n: minute n */
	uint32_t hour; /* bit n: hour n */
	uint32_t dom;  /* bit n: day n of the month, 1..31 */
	uint32_t mon;  /* bit n: month n, 1..12 */
	uint32_t dow;  /* bit n: weekday n, 0 = Sunday .. 6 */
	bool dom_star; /* the day-of-month text started with '*' */
	bool dow_star; /* the day-of-week text started with '*' */
};

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_COUNT };

/* The largest number the parser reads before calling it out of range, so a
 * long run of digits cannot overflow an int. */
#define NUMBER_CAP 1000000

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

typedef struct field_spec {
	const char *name;
	int lo, hi;    /* accepted values */
	int star_hi;   /* where `*` and `start/step` end (day-of-week: 6, as 7 is 0) */
	const char *const *names;
	int name_base; /* the value of names[0] */
	int nnames;
} field_spec;

static const field_spec specs[F_COUNT] = {
	{"second", 0, 59, 59, NULL, 0, 0},
	{"minute", 0, 59, 59, NULL, 0, 0},
	{"hour", 0, 23, 23, NULL, 0, 0},
	{"day-of-month", 1, 31, 31, NULL, 0, 0},
	{"month", 1, 12, 12, month_names, 1, 12},
	{"day-of-week", 0, 7, 6, day_names, 0, 7},
};

typedef struct macro {
	const char *name;
	const char *expr;
} macro;

static const macro macros[] = {
	{"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"},  {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

/* Local candidates converted by one faas_cron_next() call at most. Only the
 * second pass of a repeated hour rejects candidates after converting them
 * (their first occurrence has passed), so this is far above an hour of
 * every-second matches, and still bounds the work if mktime() misbehaves. */
#define LOCAL_TRIES_MAX 200000

/* Longest stretch of the input quoted back in a message. */
#define QUOTE_MAX 24

typedef struct parser {
	char *err;
	size_t errlen;
} parser;

static int fail(parser *p, const char *fmt, ...) FAAS_PRINTF(2, 3);

static int fail(parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return FAAS_EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int unexpected(parser *p, const field_spec *f, char c)
{
	if (isprint((unsigned char)c))
		return fail(p, "%s: unexpected character '%c'", f->name, c);
	return fail(p, "%s: unexpected byte 0x%02x", f->name, (unsigned char)c);
}

/* Read a number or a name at *s (within end). *by_name tells which; missing
 * says what is wrong when there is nothing to read. */
static int parse_value(parser *p, const field_spec *f, const char **s, const char *end, int *out,
		       bool *by_name, const char *missing)
{
	const char *q = *s;

	*by_name = false;
	if (q < end && isdigit((unsigned char)*q)) {
		long v = 0;
		const char *start = q;

		while (q < end && isdigit((unsigned char)*q)) {
			if (v < NUMBER_CAP)
				v = v * 10 + (*q - '0');
			q++;
		}
		if (v < f->lo || v > f->hi)
			return fail(p, "%s: %.*s out of range %d..%d", f->name,
				    (int)(q - start > QUOTE_MAX ? QUOTE_MAX : q - start), start,
				    f->lo, f->hi);
		*out = (int)v;
		*s = q;
		return 0;
	}
	if (q < end && isalpha((unsigned char)*q)) {
		const char *start = q;
		size_t n;

		while (q < end && isalpha((unsigned char)*q))
			q++;
		n = (size_t)(q - start);
		for (int i = 0; f->names && n == 3 && i < f->nnames; i++) {
			if (strncasecmp(start, f->names[i], 3) == 0) {
				*out = f->name_base + i;
				*by_name = true;
				*s = q;
				return 0;
			}
		}
		if (!f->names)
			return fail(p, "%s: names are not allowed here ('%.*s')", f->name,
				    (int)(n > QUOTE_MAX ? QUOTE_MAX : n), start);
		return fail(p, "%s: unknown name '%.*s'", f->name,
			    (int)(n > QUOTE_MAX ? QUOTE_MAX : n), start);
	}
	if (q == end || *q == ',')
		return fail(p, "%s: %s", f->name, missing);
	return unexpected(p, f, *q);
}

/* One field's text [s, end) into a bit set. */
static int parse_field(parser *p, const field_spec *f, const char *s, const char *end,
		       uint64_t *bits)
{
	uint64_t set = 0;

	for (;;) {
		int a, b, step = 1;
		bool star = false, range = false, by_name;
		int rc;

		if (s < end && *s == '*') {
			star = true;
			a = f->lo;
			b = f->star_hi;
			s++;
		} else {
			rc = parse_value(p, f, &s, end, &a, &by_name, "empty list item");
			if (rc != 0)
				return rc;
			b = a;
			if (s < end && *s == '-') {
				s++;
				range = true;
				rc = parse_value(p, f, &s, end, &b, &by_name,
						 "missing the end of the range after '-'");
				if (rc != 0)
					return rc;
				/* SUN is 0, but as the end of a range that starts
				 * later in the week it means the week's last day, so
				 * MON-SUN is the whole week (and SUN-SUN is Sunday). */
				if (by_name && f->names == day_names && b == 0 && a > 0)
					b = 7;
				if (b < a)
					return fail(p, "%s: range %d-%d is reversed", f->name, a,
						    b);
			}
		}
		if (s < end && *s == '/') {
			const char *start = ++s;
			long v = 0;
			int span = f->star_hi - f->lo + 1;

			if (s == end || !isdigit((unsigned char)*s))
				return s == end || *s == ','
					       ? fail(p, "%s: missing step after '/'", f->name)
					       : unexpected(p, f, *s);
			while (s < end && isdigit((unsigned char)*s)) {
				if (v < NUMBER_CAP)
					v = v * 10 + (*s - '0');
				s++;
			}
			if (v < 1 || v > span)
				return fail(p, "%s: step %.*s out of range 1..%d", f->name,
					    (int)(s - start > QUOTE_MAX ? QUOTE_MAX : s - start),
					    start, span);
			step = (int)v;
			if (!star && !range)
				b = f->star_hi < a ? a : f->star_hi;
		}
		if (s < end && *s != ',')
			return unexpected(p, f, *s);
		for (int v = a; v <= b; v += step)
			set |= UINT64_C(1) << v;
		if (s == end)
			break;
		s++; /* the comma */
		if (s == end)
			return fail(p, "%s: empty list item", f->name);
	}
	*bits = set;
	return 0;
}

static const int month_days_max[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Whether some allowed month has some allowed day of the month: the only way
 * a schedule can never fire, as every weekday comes every week. */
static bool can_fire(const faas_cron *c)
{
	if (c->dom_star || !c->dow_star)
		return true;
	for (int m = 1; m <= 12; m++) {
		if (!(c->mon & (1u << m)))
			continue;
		for (int d = 1; d <= month_days_max[m]; d++)
			if (c->dom & (1u << d))
				return true;
	}
	return false;
}

static int parse_fields(parser *p, faas_cron *c, const char *expr)
{
	const char *start[F_COUNT], *end[F_COUNT];
	uint64_t bits[F_COUNT];
	int n = 0, first;
	const char *s = expr;

	for (;;) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		if (n < F_COUNT)
			start[n] = s;
		while (*s && !is_blank(*s))
			s++;
		if (n < F_COUNT)
			end[n] = s;
		n++;
	}
	if (n != 5 && n != 6)
		return fail(p, "expected 5 or 6 fields, got %d", n);
	first = n == 6 ? F_SEC : F_MIN;
	bits[F_SEC] = 1; /* five fields: second 0 */
	for (int i = 0; i < n; i++) {
		int rc = parse_field(p, &specs[first + i], start[i], end[i], &bits[first + i]);

		if (rc != 0)
			return rc;
	}
	c->sec = bits[F_SEC];
	c->min = bits[F_MIN];
	c->hour = (uint32_t)bits[F_HOUR];
	c->dom = (uint32_t)bits[F_DOM];
	c->mon = (uint32_t)bits[F_MON];
	/* 7 is another name for Sunday. */
	c->dow = (uint32_t)((bits[F_DOW] | (bits[F_DOW] >> 7)) & 0x7f);
	c->dom_star = *start[F_DOM - first] == '*';
	c->dow_star = *start[F_DOW - first] == '*';
	if (!can_fire(c))
		return fail(p, "day-of-month: never fires (no allowed month has an allowed day)");
	return 0;
}

static int parse_macro(parser *p, faas_cron *c, const char *s)
{
	size_t n = 0;

	while (s[n] && !is_blank(s[n]))
		n++;
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (strlen(macros[i].name) != n || strncasecmp(s, macros[i].name, n) != 0)
			continue;
		for (const char *q = s + n; *q; q++)
			if (!is_blank(*q))
				return fail(p, "%s: unexpected text after the macro", macros[i].name);
		return parse_fields(p, c, macros[i].expr);
	}
	return fail(p, "unknown macro '%.*s'", (int)(n > QUOTE_MAX ? QUOTE_MAX : n), s);
}

int faas_cron_parse(faas_cron **out, const char *expr, char *errbuf, size_t errlen)
{
	parser p = {errbuf, errlen};
	faas_cron *c;
	const char *s;
	int rc;

	if (errbuf && errlen > 0)
		errbuf[0] = '\0';
	if (!out)
		return fail(&p, "out is NULL");
	*out = NULL;
	if (!expr)
		return fail(&p, "the expression is NULL");
	if (strnlen(expr, FAAS_CRON_EXPR_MAX + 1) > FAAS_CRON_EXPR_MAX)
		return fail(&p, "the expression is longer than %d bytes", FAAS_CRON_EXPR_MAX);
	c = calloc(1, sizeof(*c));
	if (!c) {
		fail(&p, "out of memory");
		return FAAS_ENOMEM;
	}
	for (s = expr; is_blank(*s); s++)
		;
	rc = *s == '@' ? parse_macro(&p, c, s) : parse_fields(&p, c, s);
	if (rc != 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void faas_cron_free(faas_cron *c)
{
	free(c);
}

/* ---- civil time ---- */

typedef struct civil {
	int64_t y;
	int mo, d, h, mi, s;
} civil;

/* The calendar arithmetic is util's (date.h); cron keeps its own record of
 * a civil time because its search steps each field on its own. */
static civil civil_from_epoch(int64_t t)
{
	int64_t days = (t >= 0 ? t : t - 86399) / 86400, secs = t - days * 86400;
	civil c;

	faas__civil_from_days(days, &c.y, &c.mo, &c.d);
	c.h = (int)(secs / 3600);
	c.mi = (int)(secs / 60 % 60);
	c.s = (int)(secs % 60);
	return c;
}

static int64_t epoch_from_civil(const civil *c)
{
	return faas__days_from_civil(c->y, c->mo, c->d) * 86400 + c->h * 3600 + c->mi * 60 + c->s;
}

static int weekday(int64_t y, int m, int d)
{
	/* 1970-01-01 was a Thursday (4). */
	return faas__weekday_from_days(faas__days_from_civil(y, m, d));
}

/* The lowest set bit at or above from, or -1. */
static int next_bit(uint64_t set, int from, int width)
{
	if (from >= width)
		return -1;
	set &= ~UINT64_C(0) << from;
	return set ? __builtin_ctzll(set) : -1;
}

static bool day_matches(const faas_cron *c, int64_t y, int m, int d)
{
	bool dom = c->dom & (1u << d);
	bool dow = c->dow & (1u << weekday(y, m, d));

	if (!c->dom_star && !c->dow_star)
		return dom || dow;
	return dom && dow;
}

static int cmp_civil_tm(const civil *c, const struct tm *tm)
{
	int64_t a[6] = {c->y, c->mo, c->d, c->h, c->mi, c->s};
	int64_t b[6] = {(int64_t)tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour,
			tm->tm_min, tm->tm_sec};

	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* Where local time t falls against c: <0, 0 or >0; 2 if t cannot be converted. */
static int cmp_local(const civil *c, time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 2;
	return -cmp_civil_tm(c, &tm);
}

/* The instant a local civil time fires: its first occurrence if it exists,
 * else the first instant after the gap it falls in. mktime() is asked with
 * each DST flag and every answer is checked by converting it back, because
 * for a time that does not exist, or exists twice, mktime() may answer either
 * way. Returns false if the time cannot be converted at all. */
static bool local_fire(const civil *c, int64_t *out)
{
	static const int flags[3] = {0, 1, -1};
	time_t lo = 0, hi = 0;
	bool have_lo = false, have_hi = false, found = false;
	int64_t best = 0;

	for (int i = 0; i < 3; i++) {
		struct tm tm = {0};
		time_t t;
		int where;

		tm.tm_year = (int)(c->y - 1900);
		tm.tm_mon = c->mo - 1;
		tm.tm_mday = c->d;
		tm.tm_hour = c->h;
		tm.tm_min = c->mi;
		tm.tm_sec = c->s;
		tm.tm_isdst = flags[i];
		t = mktime(&tm);
		where = cmp_local(c, t);
		if (where == 0) {
			if (!found || t < best)
				best = t;
			found = true;
		} else if (where < 0 && (!have_lo || t > lo)) {
			lo = t;
			have_lo = true;
		} else if (where == 1 && (!have_hi || t < hi)) {
			hi = t;
			have_hi = true;
		}
	}
	if (found) {
		*out = best;
		return true;
	}
	/* A gap: the answer is the first instant whose local time is past c.
	 * Local time only moves forward across a gap, so bisect between an
	 * instant before it and one after it. Gaps are an hour or so, a day at
	 * most (a zone changing sides of the date line); two days is plenty. */
	if (!have_lo && have_hi) {
		lo = hi - 2 * 86400;
		have_lo = cmp_local(c, lo) < 0;
	} else if (have_lo && !have_hi) {
		hi = lo + 2 * 86400;
		have_hi = cmp_local(c, hi) == 1;
	}
	if (!have_lo || !have_hi)
		return false;
	while (hi - lo > 1) {
		time_t mid = lo + (hi - lo) / 2;
		int where = cmp_local(c, mid);

		if (where == 2)
			return false;
		if (where >= 0)
			hi = mid;
		else
			lo = mid;
	}
	*out = hi;
	return true;
}

/* The first candidate second after after_epoch_s, in UTC or local civil time. */
static bool first_candidate(int64_t after_epoch_s, bool local_time, civil *t)
{
	time_t a = (time_t)after_epoch_s;
	struct tm tm;

	if (!local_time) {
		*t = civil_from_epoch(after_epoch_s + 1);
		return true;
	}
	if (!localtime_r(&a, &tm))
		return false;
	t->y = (int64_t)tm.tm_year + 1900;
	t->mo = tm.tm_mon + 1;
	t->d = tm.tm_mday;
	t->h = tm.tm_hour;
	t->mi = tm.tm_min;
	/* A leap second (zones from right/) counts as the minute's last. */
	t->s = (tm.tm_sec > 59 ? 59 : tm.tm_sec) + 1;
	return true;
}

/* Move *t forward to the first civil time at or after it that c matches.
 * Each step either accepts the current field or moves it (and resets the
 * finer ones) to the next allowed value, carrying into the coarser one when
 * none is left; t->s, t->mi and t->h may step one past their range, which the
 * next round carries. Returns false past last_year. */
static bool advance_to_match(const faas_cron *c, civil *t, int64_t last_year)
{
	for (;;) {
		int v;

		if (t->y > last_year)
			return false;
		if (t->mo > 12 || !(c->mon & (1u << t->mo))) {
			v = next_bit(c->mon, t->mo, 13);
			if (v < 0) {
				t->y++;
				v = next_bit(c->mon, 1, 13);
			}
			t->mo = v;
			t->d = 1;
			t->h = t->mi = t->s = 0;
			continue;
		}
		if (t->d > faas__days_in_month(t->y, t->mo)) {
			t->mo++;
			t->d = 1;
			t->h = t->mi = t->s = 0;
			continue;
		}
		if (!day_matches(c, t->y, t->mo, t->d)) {
			t->d++;
			t->h = t->mi = t->s = 0;
			continue;
		}
		v = next_bit(c->hour, t->h, 24);
		if (v < 0) {
			t->d++;
			t->h = t->mi = t->s = 0;
			continue;
		}
		if (v != t->h) {
			t->h = v;
			t->mi = t->s = 0;
		}
		v = next_bit(c->min, t->mi, 60);
		if (v < 0) {
			t->h++;
			t->mi = t->s = 0;
			continue;
		}
		if (v != t->mi) {
			t->mi = v;
			t->s = 0;
		}
		v = next_bit(c->sec, t->s, 60);
		if (v < 0) {
			t->mi++;
			t->s = 0;
			continue;
		}
		t->s = v;
		return true;
	}
}

int faas_cron_next(const faas_cron *c, int64_t after_epoch_s, bool local_time, int64_t *next_out)
{
	civil t;
	int64_t last_year, at;
	long tries = 0;

	if (!c || !next_out || after_epoch_s < 0 || after_epoch_s > FAAS_CRON_MAX_EPOCH)
		return FAAS_EINVAL;
	if (!first_candidate(after_epoch_s, local_time, &t))
		return FAAS_EINVAL;
	last_year = t.y + FAAS_CRON_SEARCH_YEARS;
	if (last_year > 9999)
		last_year = 9999;
	for (;;) {
		if (!advance_to_match(c, &t, last_year))
			return FAAS_ENOTFOUND;
		if (!local_time) {
			*next_out = epoch_from_civil(&t);
			return 0;
		}
		/* A local time whose first occurrence has passed (the second pass
		 * of a repeated hour) does not fire again: try the next. */
		if (++tries > LOCAL_TRIES_MAX)
			return FAAS_ENOTFOUND;
		if (local_fire(&t, &at) && at > after_epoch_s) {
			if (at > FAAS_CRON_MAX_EPOCH)
				return FAAS_ENOTFOUND;
			*next_out = at;
			return 0;
		}
		t.s++;
	}
}

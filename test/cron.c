/* Cron expressions: next fire times worked out by hand (from the calendar,
 * not from the code under test), daylight-saving changes in a real zone, and
 * every way an expression is refused.
 *
 * Calendar facts the tables rely on: 2026-01-01 is a Thursday, so the first
 * days of 2026's months fall on Thu, Sun, Sun, Wed, Fri, Mon, Wed, Sat, Tue,
 * Thu, Sun, Tue. 2024, 2028 and 2032 are leap years (29 Feb 2028 is a
 * Tuesday, 29 Feb 2032 a Sunday); 2100 is not. America/New_York springs
 * forward on 2026-03-08 at 07:00Z (02:00 EST becomes 03:00 EDT) and falls
 * back on 2026-11-01 at 06:00Z (02:00 EDT becomes 01:00 EST). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <faas.h>

TestSuite(cron, .timeout = 30);

/* "2026-01-01T00:00:00Z" → seconds since the epoch, with timegm. */
static int64_t iso(const char *s)
{
	struct tm tm = {0};
	int n = 0;

	cr_assert_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n),
		     6, "bad ISO time in the test: %s", s);
	cr_assert_eq((size_t)n, strlen(s), "bad ISO time in the test: %s", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

static const char *fmt(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static faas_cron *parse_ok(const char *expr)
{
	char err[256];
	faas_cron *c = NULL;
	int rc = faas_cron_parse(&c, expr, err, sizeof(err));

	cr_assert_eq(rc, 0, "\"%s\": %s (%s)", expr, faas_err_name(rc), err);
	cr_assert_not_null(c);
	return c;
}

typedef struct expect {
	const char *expr;
	const char *after;
	const char *next;
} expect;

static void check_table(const expect *t, size_t n, bool local)
{
	for (size_t i = 0; i < n; i++) {
		faas_cron *c = parse_ok(t[i].expr);
		int64_t got = 0, again = 0, want = iso(t[i].next);
		char a[32], b[32];
		int rc = faas_cron_next(c, iso(t[i].after), local, &got);

		cr_assert_eq(rc, 0, "\"%s\" after %s: %s", t[i].expr, t[i].after,
			     faas_err_name(rc));
		cr_expect_eq(got, want, "\"%s\" after %s: got %s, want %s", t[i].expr, t[i].after,
			     fmt(got, a), fmt(want, b));
		/* The fire time is itself the next one after the second before it. */
		cr_assert_eq(faas_cron_next(c, want - 1, local, &again), 0);
		cr_expect_eq(again, want, "\"%s\" after %s - 1 s: got %s", t[i].expr, t[i].next,
			     fmt(again, a));
		faas_cron_free(c);
	}
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- UTC ---- */

static const expect basics[] = {
	{"* * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"},
	{"* * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z"},
	{"* * * * *", "2026-01-01T00:00:59Z", "2026-01-01T00:01:00Z"},
	{"0 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"},
	{"30 * * * *", "2026-01-01T00:29:59Z", "2026-01-01T00:30:00Z"},
	/* strictly after */
	{"30 * * * *", "2026-01-01T00:30:00Z", "2026-01-01T01:30:00Z"},
	{"0 0 * * *", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
	{"15 10 * * *", "2026-06-15T10:15:00Z", "2026-06-16T10:15:00Z"},
	{"15 10 * * *", "2026-06-15T10:14:59Z", "2026-06-15T10:15:00Z"},
	{"0 0 1 * *", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"},
	{"0 0 1,15 * *", "2026-01-01T00:00:00Z", "2026-01-15T00:00:00Z"},
	{"  0   0  * *  *  ", "2026-01-01T12:00:00Z", "2026-01-02T00:00:00Z"},
	{"0\t0\t*\t*\t*", "2026-01-01T12:00:00Z", "2026-01-02T00:00:00Z"},
};

static const expect lists_ranges_steps[] = {
	{"*/15 * * * *", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00Z"},
	{"*/15 * * * *", "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"},
	/* 10-50/20 is {10, 30, 50} */
	{"10-50/20 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z"},
	{"10-50/20 * * * *", "2026-01-01T00:30:00Z", "2026-01-01T00:50:00Z"},
	{"10-50/20 * * * *", "2026-01-01T00:50:00Z", "2026-01-01T01:10:00Z"},
	/* 5/15 is 5-59/15, {5, 20, 35, 50} */
	{"5/15 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"},
	{"5/15 * * * *", "2026-01-01T00:35:00Z", "2026-01-01T00:50:00Z"},
	{"5/15 * * * *", "2026-01-01T00:50:00Z", "2026-01-01T01:05:00Z"},
	{"1,2,5 * * * *", "2026-01-01T00:02:00Z", "2026-01-01T00:05:00Z"},
	{"1,2,5 * * * *", "2026-01-01T00:05:00Z", "2026-01-01T01:01:00Z"},
	{"0 9-17 * * *", "2026-01-01T17:00:00Z", "2026-01-02T09:00:00Z"},
	{"0 9-17 * * *", "2026-01-01T08:59:59Z", "2026-01-01T09:00:00Z"},
	{"0 */6 * * *", "2026-01-01T05:00:00Z", "2026-01-01T06:00:00Z"},
	{"0 */6 * * *", "2026-01-01T18:00:00Z", "2026-01-02T00:00:00Z"},
	{"0 1-3,20-22/2 * * *", "2026-01-01T03:00:00Z", "2026-01-01T20:00:00Z"},
	{"0 1-3,20-22/2 * * *", "2026-01-01T20:00:00Z", "2026-01-01T22:00:00Z"},
	{"0 0 */10 * *", "2026-01-21T00:00:00Z", "2026-01-31T00:00:00Z"},
	{"0 0 */10 * *", "2026-02-21T00:00:00Z", "2026-03-01T00:00:00Z"},
};

static const expect month_ends[] = {
	{"0 0 31 * *", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z"},
	{"0 0 31 * *", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"},
	{"0 0 31 * *", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"},
	{"0 0 31 * *", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"},
	{"0 0 31 * *", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z"},
	{"0 0 31 * *", "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z"},
	{"0 0 30 * *", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z"},
	{"0 0 30 * *", "2026-04-30T00:00:00Z", "2026-05-30T00:00:00Z"},
	{"0 0 29 * *", "2026-01-29T00:00:00Z", "2026-03-29T00:00:00Z"},
	{"0 0 28 2 *", "2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z"},
	{"0 0 * 2 *", "2026-02-28T00:00:00Z", "2027-02-01T00:00:00Z"},
	{"0 0 31 4-8 *", "2026-03-01T00:00:00Z", "2026-05-31T00:00:00Z"},
	{"59 23 31 12 *", "2026-12-31T23:58:00Z", "2026-12-31T23:59:00Z"},
	{"59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
};

static const expect leap_years[] = {
	{"0 0 29 * *", "2028-01-29T00:00:00Z", "2028-02-29T00:00:00Z"},
	{"0 0 * 2 *", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z"},
	{"0 0 29 2 *", "2024-01-01T00:00:00Z", "2024-02-29T00:00:00Z"},
	{"0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
	{"0 0 29 2 *", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"},
	/* 2100 is not a leap year */
	{"0 12 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T12:00:00Z"},
	{"0 0 29 2 *", "2096-02-29T00:00:00Z", "2104-02-29T00:00:00Z"},
	/* day-of-week restricted with `*`: both must match, a Sunday 29 Feb */
	{"0 0 29 2 */7", "2028-03-01T00:00:00Z", "2032-02-29T00:00:00Z"},
	/* 2036 Fri, 2040 Wed, 2044 Mon, 2048 Sat, 2052 Thu, 2056 Tue, 2060 Sun */
	{"0 0 29 2 */7", "2033-01-01T00:00:00Z", "2060-02-29T00:00:00Z"},
};

static const expect year_rollover[] = {
	{"0 0 1 1 *", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z"},
	{"0 0 1 1 *", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
	{"* * * * *", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"},
	{"0 0 * * *", "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"},
	{"30 6 * 1 *", "2026-02-01T00:00:00Z", "2027-01-01T06:30:00Z"},
	{"59 59 23 31 12 *", "2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z"},
	{"* * * * * *", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"},
};

static const expect day_of_week[] = {
	{"0 0 * * 1", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"},
	{"0 0 * * MON", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"},
	{"0 0 * * mon-fri", "2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z"},
	{"0 0 * * 1-5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
	{"0 0 * * 0", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
	/* 7 is Sunday too */
	{"0 0 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
	{"0 0 * * SUN", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
	{"0 0 * * 5-7", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"},
	{"0 0 * * 5-7", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"},
	{"0 0 * * 5-7", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"},
	/* a range ending with the name SUN ends on Sunday */
	{"0 0 * * MON-SUN", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
	{"0 0 * * FRI-SUN", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"},
	{"0 0 * * SUN-SUN", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
	{"0 0 * * SUN-SUN", "2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"},
	{"0 0 * * Sat,sUn", "2026-01-05T00:00:00Z", "2026-01-10T00:00:00Z"},
	/* {0, 2, 4, 6}: from Thursday the next is Saturday */
	{"0 0 * * */2", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"},
	/* 1/2 is 1-6/2: {1, 3, 5} */
	{"0 0 * * 1/2", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
	{"0 0 * * 1/2", "2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z"},
	{"0 0 * * thu", "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z"},
	/* the first Sunday of December 2026 */
	{"0 12 * DEC SUN", "2026-06-01T00:00:00Z", "2026-12-06T12:00:00Z"},
};

static const expect dom_or_dow[] = {
	/* both restricted: the 13th OR a Friday */
	{"0 0 13 * 5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
	{"0 0 13 * 5", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"},
	{"0 0 13 * FRI", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"},
	{"0 0 1 * 1", "2026-01-27T00:00:00Z", "2026-02-01T00:00:00Z"},
	{"0 0 1 * 1", "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z"},
	/* not "the first Monday": days 1-7 or any Monday */
	{"0 0 1-7 * MON", "2026-01-08T00:00:00Z", "2026-01-12T00:00:00Z"},
	{"0 0 1-7 * MON", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z"},
	/* a day of the month that never comes still fires on the weekday, in
	 * the allowed month: Monday 2 February 2026 */
	{"0 0 30 2 MON", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z"},
	{"0 0 29 2 1", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z"},
	{"0 0 29 2 1", "2028-02-22T00:00:00Z", "2028-02-28T00:00:00Z"},
	{"0 0 29 2 1", "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z"},
	/* day-of-month starts with `*`: both must match, {1, 11, 21, 31} on a Monday */
	{"0 0 */10 * 1", "2026-01-01T00:00:00Z", "2026-05-11T00:00:00Z"},
	/* day-of-week starts with `*`: both, a 13th on a Sunday */
	{"0 0 13 * */7", "2026-01-01T00:00:00Z", "2026-09-13T00:00:00Z"},
};

static const expect names[] = {
	{"0 0 1 JAN,jul *", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z"},
	{"0 0 1 mar-may *", "2026-05-01T00:00:00Z", "2027-03-01T00:00:00Z"},
	{"0 0 1 Jun-Aug/2 *", "2026-06-01T00:00:00Z", "2026-08-01T00:00:00Z"},
	{"0 0 1 FEB/4 *", "2026-06-01T00:00:00Z", "2026-10-01T00:00:00Z"},
	{"0 0 1 dec *", "2026-01-01T00:00:00Z", "2026-12-01T00:00:00Z"},
	{"0 0 1 1,dec *", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
};

static const expect seconds[] = {
	{"* * * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"},
	{"*/10 * * * * *", "2026-01-01T00:00:05Z", "2026-01-01T00:00:10Z"},
	{"30 * * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:30Z"},
	{"0 0 0 * * *", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
	{"15,45 30 12 * * *", "2026-01-01T12:30:15Z", "2026-01-01T12:30:45Z"},
	{"15,45 30 12 * * *", "2026-01-01T12:30:45Z", "2026-01-02T12:30:15Z"},
	/* {5, 25, 45} */
	{"5/20 * * * * *", "2026-01-01T00:00:45Z", "2026-01-01T00:01:05Z"},
	{"0-2 0 0 1 1 *", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"},
};

static const expect macros[] = {
	{"@yearly", "2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z"},
	{"@annually", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
	{"@monthly", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z"},
	{"@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
	{"@weekly", "2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"},
	{"@daily", "2026-01-01T12:00:00Z", "2026-01-02T00:00:00Z"},
	{"@midnight", "2026-02-28T23:59:59Z", "2026-03-01T00:00:00Z"},
	{"@hourly", "2026-01-01T00:59:59Z", "2026-01-01T01:00:00Z"},
	{"@HOURLY", "2026-01-01T23:00:00Z", "2026-01-02T00:00:00Z"},
	{"  @Daily\t", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
};

Test(cron, basics)
{
	check_table(basics, COUNT(basics), false);
}

Test(cron, lists_ranges_steps)
{
	check_table(lists_ranges_steps, COUNT(lists_ranges_steps), false);
}

Test(cron, month_ends)
{
	check_table(month_ends, COUNT(month_ends), false);
}

Test(cron, leap_years)
{
	check_table(leap_years, COUNT(leap_years), false);
}

Test(cron, year_rollover)
{
	check_table(year_rollover, COUNT(year_rollover), false);
}

Test(cron, day_of_week)
{
	check_table(day_of_week, COUNT(day_of_week), false);
}

Test(cron, dom_or_dow)
{
	check_table(dom_or_dow, COUNT(dom_or_dow), false);
}

Test(cron, names)
{
	check_table(names, COUNT(names), false);
}

Test(cron, seconds_field)
{
	check_table(seconds, COUNT(seconds), false);
}

Test(cron, macros)
{
	check_table(macros, COUNT(macros), false);
}

Test(cron, utc_ignores_tz)
{
	static const expect t[] = {
		{"30 2 * * *", "2026-03-08T00:00:00Z", "2026-03-08T02:30:00Z"},
		{"30 1 * * *", "2026-11-01T01:30:00Z", "2026-11-02T01:30:00Z"},
	};

	setenv("TZ", "America/New_York", 1);
	tzset();
	check_table(t, COUNT(t), false);
}

Test(cron, search_horizon)
{
	faas_cron *c = parse_ok("0 0 29 2 */7");
	int64_t next = 42;

	/* After 2088 the next Sunday 29 February is in 2128: 40 years on. */
	cr_assert_eq(faas_cron_next(c, iso("2088-02-29T00:00:00Z"), false, &next),
		     FAAS_ENOTFOUND);
	cr_assert_eq(next, 42, "untouched on error");
	faas_cron_free(c);
	cr_assert_geq(FAAS_CRON_SEARCH_YEARS, 8);
}

Test(cron, end_of_time)
{
	faas_cron *c = parse_ok("59 59 23 31 12 *");
	faas_cron *d = parse_ok("@yearly");
	int64_t next = 0;

	cr_assert_eq(faas_cron_next(c, iso("9999-01-01T00:00:00Z"), false, &next), 0);
	cr_assert_eq(next, FAAS_CRON_MAX_EPOCH);
	cr_assert_eq(faas_cron_next(c, FAAS_CRON_MAX_EPOCH, false, &next), FAAS_ENOTFOUND);
	cr_assert_eq(faas_cron_next(d, iso("9999-06-01T00:00:00Z"), false, &next), FAAS_ENOTFOUND);
	cr_assert_eq(faas_cron_next(d, iso("9999-06-01T00:00:00Z"), true, &next), FAAS_ENOTFOUND);
	cr_assert_eq(faas_cron_next(d, FAAS_CRON_MAX_EPOCH + 1, false, &next), FAAS_EINVAL);
	cr_assert_eq(faas_cron_next(d, -1, false, &next), FAAS_EINVAL);
	cr_assert_eq(faas_cron_next(d, INT64_MIN, true, &next), FAAS_EINVAL);
	cr_assert_eq(faas_cron_next(d, INT64_MAX, true, &next), FAAS_EINVAL);
	cr_assert_eq(faas_cron_next(d, 0, false, &next), 0);
	cr_assert_eq(next, iso("1971-01-01T00:00:00Z"));
	faas_cron_free(c);
	faas_cron_free(d);
}

Test(cron, null_arguments)
{
	faas_cron *c = (faas_cron *)&c; /* must be reset to NULL */
	char err[64];
	int64_t next;

	cr_assert_eq(faas_cron_parse(NULL, "@daily", err, sizeof(err)), FAAS_EINVAL);
	cr_assert_eq(faas_cron_parse(&c, NULL, err, sizeof(err)), FAAS_EINVAL);
	cr_assert_null(c, "*out is NULL after an error");
	cr_assert_str_not_empty(err);
	cr_assert_eq(faas_cron_next(NULL, 0, false, &next), FAAS_EINVAL);
	c = parse_ok("@daily");
	cr_assert_eq(faas_cron_next(c, 0, false, NULL), FAAS_EINVAL);
	faas_cron_free(c);
	faas_cron_free(NULL);
	/* A message is optional, and cut to fit. */
	cr_assert_eq(faas_cron_parse(&c, "61 * * * *", NULL, 0), FAAS_EINVAL);
	cr_assert_eq(faas_cron_parse(&c, "61 * * * *", err, 0), FAAS_EINVAL);
	memset(err, 'x', sizeof(err));
	cr_assert_eq(faas_cron_parse(&c, "61 * * * *", err, 7), FAAS_EINVAL);
	cr_assert_str_eq(err, "minute");
	/* Success clears the message. */
	cr_assert_eq(faas_cron_parse(&c, "@daily", err, sizeof(err)), 0);
	cr_assert_str_empty(err);
	faas_cron_free(c);
}

/* ---- local time, America/New_York ---- */

static void new_york(void)
{
	if (access("/usr/share/zoneinfo/America/New_York", R_OK) != 0)
		cr_skip_test("no tzdata for America/New_York");
	setenv("TZ", "America/New_York", 1);
	tzset();
}

Test(cron, local_plain_days)
{
	static const expect t[] = {
		/* EST is UTC-5, EDT UTC-4 */
		{"0 9 * * *", "2026-01-15T00:00:00Z", "2026-01-15T14:00:00Z"},
		{"0 9 * * *", "2026-07-01T00:00:00Z", "2026-07-01T13:00:00Z"},
		/* the day of the change itself, after it */
		{"0 9 * * *", "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"},
		{"0 9 * * *", "2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"},
		/* local midnight of New Year is 05:00Z */
		{"@yearly", "2026-06-01T00:00:00Z", "2027-01-01T05:00:00Z"},
		{"0 0 * * MON", "2026-01-01T00:00:00Z", "2026-01-05T05:00:00Z"},
	};

	new_york();
	check_table(t, COUNT(t), true);
}

Test(cron, local_spring_forward_gap)
{
	static const expect t[] = {
		/* 02:30 does not exist on 2026-03-08: it fires at 03:00 EDT (07:00Z) */
		{"30 2 * * *", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z"},
		{"30 2 * * *", "2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z"},
		/* and the next day as usual, 02:30 EDT */
		{"30 2 * * *", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
		{"0 2 * * *", "2026-03-08T00:00:00Z", "2026-03-08T07:00:00Z"},
		/* four skipped times fire once, then the next day */
		{"*/15 2 * * *", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},
		{"*/15 2 * * *", "2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"},
		/* 03:00 exists, and is the same instant */
		{"0 3 * * *", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},
		{"0 3 * * *", "2026-03-08T07:00:00Z", "2026-03-09T07:00:00Z"},
		/* hourly: 01:00 EST, then 03:00 EDT (for 02:00 and 03:00), 04:00 EDT */
		{"0 * * * *", "2026-03-08T05:00:00Z", "2026-03-08T06:00:00Z"},
		{"0 * * * *", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},
		{"0 * * * *", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"},
		/* seconds in the gap */
		{"30 59 2 * * *", "2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z"},
	};

	new_york();
	check_table(t, COUNT(t), true);
}

Test(cron, local_fall_back_repeat)
{
	static const expect t[] = {
		/* 01:30 happens at 05:30Z (EDT) and 06:30Z (EST): only the first fires */
		{"30 1 * * *", "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"},
		{"30 1 * * *", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		{"0 1 * * *", "2026-11-01T04:59:59Z", "2026-11-01T05:00:00Z"},
		/* asked during the second pass: 01:45 has passed already */
		{"45 1 * * *", "2026-11-01T06:10:00Z", "2026-11-02T06:45:00Z"},
		/* every 30 minutes: 01:30 EDT, then 02:00 EST, nothing in between */
		{"*/30 * * * *", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z"},
		{"*/30 * * * *", "2026-11-01T06:15:00Z", "2026-11-01T07:00:00Z"},
		{"0 * * * *", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"},
		{"0 2 * * *", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"},
		{"0 0 * * *", "2026-10-31T12:00:00Z", "2026-11-01T04:00:00Z"},
		{"0 0 * * *", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"},
		/* every second: the second pass is skipped whole */
		{"* * * * * *", "2026-11-01T05:59:59Z", "2026-11-01T07:00:00Z"},
	};

	new_york();
	check_table(t, COUNT(t), true);
}

Test(cron, local_in_utc_zone_is_utc)
{
	static const expect t[] = {
		{"30 2 * * *", "2026-03-08T00:00:00Z", "2026-03-08T02:30:00Z"},
		{"0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
	};

	setenv("TZ", "UTC", 1);
	tzset();
	check_table(t, COUNT(t), true);
}

/* ---- rejections ---- */

typedef struct bad {
	const char *expr;
	const char *msg; /* a piece of the message, the field name included */
} bad;

static const bad rejected[] = {
	{"*/0 * * * *", "minute: step 0 out of range 1..60"},
	{"*/61 * * * *", "minute: step 61 out of range 1..60"},
	{"1-5/0 * * * *", "minute: step 0"},
	{"*/ * * * *", "minute: missing step after '/'"},
	{"*/x * * * *", "minute: unexpected character 'x'"},
	{"60 * * * *", "minute: 60 out of range 0..59"},
	{"* 24 * * *", "hour: 24 out of range 0..23"},
	{"* * 32 * *", "day-of-month: 32 out of range 1..31"},
	{"* * 0 * *", "day-of-month: 0 out of range 1..31"},
	{"* * * 13 *", "month: 13 out of range 1..12"},
	{"* * * 0 *", "month: 0 out of range 1..12"},
	{"* * * * 8", "day-of-week: 8 out of range 0..7"},
	{"60 * * * * *", "second: 60 out of range 0..59"},
	{"0 0 */32 * *", "day-of-month: step 32 out of range 1..31"},
	{"0 0 * */13 *", "month: step 13 out of range 1..12"},
	{"0 0 * * */8", "day-of-week: step 8 out of range 1..7"},
	{"5-1 * * * *", "minute: range 5-1 is reversed"},
	{"* 23-1 * * *", "hour: range 23-1 is reversed"},
	{"* * * DEC-JAN *", "month: range 12-1 is reversed"},
	{"* * * * FRI-MON", "day-of-week: range 5-1 is reversed"},
	{"5- * * * *", "minute: missing the end of the range"},
	{"1-2-3 * * * *", "minute: unexpected character '-'"},
	{"-1 * * * *", "minute: unexpected character '-'"},
	{"x * * * *", "minute: names are not allowed"},
	{"* * * FOO *", "month: unknown name 'FOO'"},
	{"* * * JANUARY *", "month: unknown name 'JANUARY'"},
	{"* * * * MONDAY", "day-of-week: unknown name 'MONDAY'"},
	{"* * JAN * *", "day-of-month: names are not allowed"},
	{"* * * * * ?", "day-of-week: unexpected character '?'"},
	{"# * * * *", "minute: unexpected character '#'"},
	{"\x01 * * * *", "minute: unexpected byte 0x01"},
	{"** * * * *", "minute: unexpected character '*'"},
	{"1,,2 * * * *", "minute: empty list item"},
	{"1, * * * *", "minute: empty list item"},
	{",1 * * * *", "minute: empty list item"},
	/* trailing garbage */
	{"5x * * * *", "minute: unexpected character 'x'"},
	{"* * * * 5;", "day-of-week: unexpected character ';'"},
	{"*/5x * * * *", "minute: unexpected character 'x'"},
	/* six fields, so 2026 is the day of the week */
	{"0 0 1 1 * 2026", "day-of-week: 2026 out of range 0..7"},
	{"99999999999999999999 * * * *", "minute: 99999999999999999999 out of range 0..59"},
	{"* * 4294967297 * *", "day-of-month: 4294967297 out of range 1..31"},
	{"*/18446744073709551617 * * * *", "minute: step 18446744073709551617 out of range"},
	{"", "expected 5 or 6 fields, got 0"},
	{"   \t ", "expected 5 or 6 fields, got 0"},
	{"1 2 3 4", "expected 5 or 6 fields, got 4"},
	{"1 2 3 4 5 6 7", "expected 5 or 6 fields, got 7"},
	{"0 0 30 2 *", "never fires"},
	{"0 0 31 4 *", "never fires"},
	{"0 0 31 4,6,9,11 *", "never fires"},
	{"0 0 30,31 2 *", "never fires"},
	{"0 0 30 2 */1", "never fires"},
	{"@reboot", "unknown macro '@reboot'"},
	{"@", "unknown macro '@'"},
	{"@daily 5", "@daily: unexpected text after the macro"},
	{"@every 5m", "unknown macro '@every'"},
};

Test(cron, rejections_name_the_field)
{
	for (size_t i = 0; i < COUNT(rejected); i++) {
		char err[256] = "untouched";
		faas_cron *c = (faas_cron *)&err; /* must be reset to NULL */
		int rc = faas_cron_parse(&c, rejected[i].expr, err, sizeof(err));

		cr_expect_eq(rc, FAAS_EINVAL, "\"%s\" was accepted", rejected[i].expr);
		cr_expect_null(c, "\"%s\": *out not reset", rejected[i].expr);
		cr_expect_not_null(strstr(err, rejected[i].msg), "\"%s\": message \"%s\", want \"%s\"",
				   rejected[i].expr, err, rejected[i].msg);
	}
}

Test(cron, too_long)
{
	char expr[FAAS_CRON_EXPR_MAX + 2];
	char err[128];
	faas_cron *c = NULL;

	/* Exactly the limit is fine (blanks are ignored)... */
	memset(expr, ' ', sizeof(expr));
	memcpy(expr, "@daily", 6);
	expr[FAAS_CRON_EXPR_MAX] = '\0';
	cr_assert_eq(faas_cron_parse(&c, expr, err, sizeof(err)), 0, "%s", err);
	faas_cron_free(c);
	/* ...one more byte is not. */
	expr[FAAS_CRON_EXPR_MAX] = ' ';
	expr[FAAS_CRON_EXPR_MAX + 1] = '\0';
	cr_assert_eq(faas_cron_parse(&c, expr, err, sizeof(err)), FAAS_EINVAL);
	cr_assert_not_null(strstr(err, "longer than 1024 bytes"), "%s", err);
	cr_assert_null(c);
}

/* libFuzzer target: faas_cron_parse() on any bytes, then faas_cron_next() in
 * UTC and in a local zone with daylight saving, checking what must always
 * hold: a refusal is EINVAL with a message and no schedule; a fire time is
 * later than the time asked about, within range, and is itself the next
 * fire time after the second before it (and after any second in between). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <faas/cron.h>
#include <faas/errors.h>

/* Fire times asked for after each start. */
#define STEPS 3

static void check(int cond, const char *what, const char *expr, int64_t t, int local)
{
	if (cond)
		return;
	fprintf(stderr, "invariant broken: %s; expression \"%s\", after %lld, %s\n", what, expr,
		(long long)t, local ? "local" : "UTC");
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A zone with both daylight-saving changes (UTC if tzdata is missing). */
	setenv("TZ", "America/New_York", 1);
	tzset();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t starts[] = {
		0,
		951739200,              /* 2000-02-28T12:00:00Z, a leap day ahead */
		1767225600,             /* 2026-01-01T00:00:00Z */
		1772951400,             /* 2026-03-08T06:30:00Z, just before spring forward */
		1793511000,             /* 2026-11-01T05:30:00Z, inside the repeated hour */
		4102444799,             /* 2099-12-31T23:59:59Z, 2100 is no leap year */
		FAAS_CRON_MAX_EPOCH - 3600,
	};
	char err[96];
	faas_cron *c = NULL;
	char *expr;
	int rc;

	/* Longer inputs only exercise the length check. */
	if (size > FAAS_CRON_EXPR_MAX + 2)
		return 0;
	expr = malloc(size + 1);
	if (!expr)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	memset(err, 'x', sizeof(err));
	rc = faas_cron_parse(&c, expr, err, sizeof(err));
	if (rc != 0) {
		check(rc == FAAS_EINVAL, "refused with EINVAL", expr, 0, 0);
		check(c == NULL, "no schedule after a refusal", expr, 0, 0);
		check(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0',
		      "a terminated, non-empty message", expr, 0, 0);
		free(expr);
		return 0;
	}
	check(err[0] == '\0', "no message on success", expr, 0, 0);
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		for (int local = 0; local <= 1; local++) {
			int64_t t = starts[i];

			for (int k = 0; k < STEPS; k++) {
				int64_t next = -1, again = -1;

				rc = faas_cron_next(c, t, local, &next);
				if (rc == FAAS_ENOTFOUND)
					break;
				check(rc == 0, "next succeeds or finds nothing", expr, t, local);
				check(next > t, "next is later", expr, t, local);
				check(next <= FAAS_CRON_MAX_EPOCH, "next is in range", expr, t, local);
				rc = faas_cron_next(c, next - 1, local, &again);
				check(rc == 0 && again == next, "next(next - 1) == next", expr, t,
				      local);
				if (next - t > 2) {
					int64_t mid = t + (next - t) / 2;

					rc = faas_cron_next(c, mid, local, &again);
					check(rc == 0 && again == next, "nothing fires in between",
					      expr, mid, local);
				}
				t = next;
			}
		}
	}
	faas_cron_free(c);
	free(expr);
	return 0;
}

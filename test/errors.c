/* Error codes, their names and messages, and the version functions. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(errors, .timeout = 30);

struct code {
	int value;
	const char *name;
	const char *msg;
};

static const struct code codes[] = {
#define XX(name, value, msg) {value, "FAAS_" #name, msg},
    FAAS_ERRNO_MAP(XX)
#undef XX
};

#define NCODES (sizeof(codes) / sizeof(codes[0]))

Test(errors, strerror_every_code)
{
	for (size_t i = 0; i < NCODES; i++) {
		const char *s = faas_strerror(codes[i].value);

		cr_assert_not_null(s);
		cr_assert_str_eq(s, codes[i].msg, "faas_strerror(%d)", codes[i].value);
	}
}

Test(errors, err_name_every_code)
{
	for (size_t i = 0; i < NCODES; i++) {
		const char *s = faas_err_name(codes[i].value);

		cr_assert_not_null(s);
		cr_assert_str_eq(s, codes[i].name, "faas_err_name(%d)", codes[i].value);
	}
}

Test(errors, enum_values_match_table)
{
	cr_assert_eq(FAAS_EINVAL, -1);
	cr_assert_eq(FAAS_ENOMEM, -2);
	cr_assert_eq(FAAS_ENOTFOUND, -3);
	cr_assert_eq(FAAS_EEXIST, -4);
	cr_assert_eq(FAAS_ELOAD, -5);
	cr_assert_eq(FAAS_ESYMBOL, -6);
	cr_assert_eq(FAAS_EMODULE, -7);
	cr_assert_eq(FAAS_EABI, -8);
	cr_assert_eq(FAAS_ESTOPPED, -9);
	cr_assert_eq(FAAS_EBUSY, -10);
	cr_assert_eq(FAAS_ECONFLICT, -11);
	cr_assert_eq(FAAS_ECANCELED, -12);
	cr_assert_eq(FAAS_ETOOBIG, -13);
	cr_assert_eq(FAAS_ENOTSUP, -14);
	cr_assert_eq(FAAS_ESYSTEM, -15);
	cr_assert_eq(FAAS_EINIT, -16);
	cr_assert_eq(FAAS_OK, 0);
}

Test(errors, codes_negative_and_distinct)
{
	for (size_t i = 0; i < NCODES; i++) {
		cr_assert_lt(codes[i].value, 0);
		for (size_t j = i + 1; j < NCODES; j++) {
			cr_assert_neq(codes[i].value, codes[j].value);
			cr_assert_str_neq(codes[i].name, codes[j].name);
			cr_assert_str_neq(faas_strerror(codes[i].value),
			                  faas_strerror(codes[j].value));
		}
	}
}

Test(errors, success_code)
{
	cr_assert_not_null(faas_strerror(0));
	cr_assert_str_neq(faas_strerror(0), "unknown error");
	cr_assert_str_eq(faas_err_name(0), "FAAS_OK");
}

Test(errors, unknown_codes)
{
	const int unknown[] = {1, 7, -17, -100, -1000, INT_MIN, INT_MAX};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		cr_assert_str_eq(faas_strerror(unknown[i]), "unknown error", "code %d", unknown[i]);
		cr_assert_str_eq(faas_err_name(unknown[i]), "FAAS_UNKNOWN", "code %d", unknown[i]);
	}
}

Test(errors, strings_are_static)
{
	/* The same pointer each time: static strings, no allocation. */
	cr_assert_eq(faas_strerror(FAAS_EINVAL), faas_strerror(FAAS_EINVAL));
	cr_assert_eq(faas_err_name(FAAS_EABI), faas_err_name(FAAS_EABI));
}

Test(errors, version_string_matches_macros)
{
	char want[64];

	snprintf(want, sizeof(want), "%d.%d.%d", FAAS_VERSION_MAJOR, FAAS_VERSION_MINOR,
	         FAAS_VERSION_PATCH);
	cr_assert_not_null(faas_version());
	cr_assert_str_eq(faas_version(), want);
}

Test(errors, version_number_matches_macros)
{
	cr_assert_eq(faas_version_number(), (unsigned int)FAAS_VERSION_NUMBER);
	cr_assert_eq(FAAS_VERSION_NUMBER,
	             FAAS_VERSION_MAJOR * 10000 + FAAS_VERSION_MINOR * 100 + FAAS_VERSION_PATCH);
}

/*
 * libfaas runtime — the runtime options: their defaults, and the one table of
 * the numeric ranges that both faas_runtime_new() and the manifest reader
 * check, so that a limit is written once and the two cannot disagree.
 */
#ifndef FAAS_LIB_RUNTIME_OPTIONS_H
#define FAAS_LIB_RUNTIME_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "faas/runtime.h"

/* The most of anything counted that untyped input (a manifest) may ask for
 * where the option itself has no bound. */
#define FAAS__OPTION_MAX_COUNT 10000000u

/* max of an option bounded only by its field's type. */
#define FAAS__OPTION_NO_MAX 0u

/* The C type of an option's field. */
typedef enum faas__option_kind {
	FAAS__OPTION_UINT, /* unsigned int */
	FAAS__OPTION_U32,  /* uint32_t */
	FAAS__OPTION_SIZE, /* size_t */
} faas__option_kind;

/* One numeric runtime option and the values it accepts, min..max. */
typedef struct faas__option_range {
	const char *section; /* the manifest section: "runtime", "defaults" or "pricing" */
	const char *key;     /* the key in that section */
	const char *name;    /* the option in faas_runtime_new()'s messages */
	size_t offset;       /* of the field in faas_runtime_options */
	faas__option_kind kind;
	uint64_t min;
	uint64_t max; /* or FAAS__OPTION_NO_MAX */
} faas__option_range;

/* Every range, in the order faas_runtime_new() checks them; within a section
 * this is also the order the manifest reads them. */
extern const faas__option_range faas__option_ranges[];
extern const size_t faas__option_nranges;

uint64_t faas__option_get(const faas_runtime_options *o, const faas__option_range *r);
/* v must be within the field's type (any value min..max is). */
void faas__option_set(faas_runtime_options *o, const faas__option_range *r, uint64_t v);

/* The whole check of faas_runtime_new(): 0, or FAAS_EINVAL with the message
 * in faas_runtime_last_error(NULL). */
int faas__runtime_options_check(const faas_runtime_options *o);

/* *in as a current-version struct in *out: a version 1 struct's fields,
 * the later ones' defaults. 0, or FAAS_EINVAL (an unknown version, named). */
int faas__runtime_options_upgrade(faas_runtime_options *out, const faas_runtime_options *in);

#endif /* FAAS_LIB_RUNTIME_OPTIONS_H */

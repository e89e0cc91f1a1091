/*
 * libfaas — version numbers. meson.build reads the three macros below; the
 * shared library's soversion is the major, so it changes with every ABI
 * break (1.0: the stats structs grew a version and a reserved tail, and
 * faas_activation_list hands out references; 1.1 added fields in padding).
 */
#ifndef FAAS_VERSION_H
#define FAAS_VERSION_H

#include "common.h"

#define FAAS_VERSION_MAJOR 1
#define FAAS_VERSION_MINOR 1
#define FAAS_VERSION_PATCH 0

/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define FAAS_VERSION_NUMBER \
	(FAAS_VERSION_MAJOR * 10000 + FAAS_VERSION_MINOR * 100 + FAAS_VERSION_PATCH)

FAAS_BEGIN_DECLS

/**
 * The version of the library actually linked, as "MAJOR.MINOR.PATCH".
 *
 * @return a static string; never NULL. Any thread may call it.
 */
FAAS_EXTERN const char *faas_version(void);

/**
 * The version of the library actually linked, as FAAS_VERSION_NUMBER computes it.
 *
 * @return the version number. Any thread may call it.
 */
FAAS_EXTERN unsigned int faas_version_number(void);

FAAS_END_DECLS

#endif /* FAAS_VERSION_H */

/*
 * libfaas — error codes.
 *
 * Every public function returns 0 on success or one of the negative FAAS_E*
 * codes below. The detailed message of the last failure (the dlerror() text,
 * the option and its range) is available from faas_runtime_last_error().
 */
#ifndef FAAS_ERRORS_H
#define FAAS_ERRORS_H

#include "common.h"

/* XX(name, value, message): the one table that makes the enum, faas_strerror()
 * and faas_err_name(). */
#define FAAS_ERRNO_MAP(XX)                                                     \
	XX(EINVAL, -1, "invalid argument")                                     \
	XX(ENOMEM, -2, "out of memory")                                        \
	XX(ENOTFOUND, -3, "not found")                                         \
	XX(EEXIST, -4, "already exists")                                       \
	XX(ELOAD, -5, "cannot load shared object")                             \
	XX(ESYMBOL, -6, "symbol not found in shared object")                   \
	XX(EMODULE, -7, "shared object has no libfaas module descriptor")      \
	XX(EABI, -8, "handler ABI version mismatch")                           \
	XX(ESTOPPED, -9, "runtime is stopping or stopped")                     \
	XX(EBUSY, -10, "resource busy")                                        \
	XX(ECONFLICT, -11, "version conflict")                                 \
	XX(ECANCELED, -12, "operation canceled")                               \
	XX(ETOOBIG, -13, "payload too large")                                  \
	XX(ENOTSUP, -14, "operation not supported")                            \
	XX(ESYSTEM, -15, "system call failed")                                 \
	XX(EINIT, -16, "module init failed")

/** Error codes: 0 is success, every error is negative. */
typedef enum faas_errno {
#define FAAS__ERRNO_ENUM(name, value, msg) FAAS_##name = (value),
	FAAS_ERRNO_MAP(FAAS__ERRNO_ENUM)
#undef FAAS__ERRNO_ENUM
	FAAS_OK = 0
} faas_errno;

FAAS_BEGIN_DECLS

/**
 * A human-readable message for an error code.
 *
 * @param err 0 or a FAAS_E* code
 * @return a static string; "unknown error" for codes outside the table.
 *         Any thread may call it.
 */
FAAS_EXTERN const char *faas_strerror(int err);

/**
 * The symbolic name of an error code ("FAAS_EINVAL").
 *
 * @param err 0 or a FAAS_E* code
 * @return a static string; "FAAS_UNKNOWN" for codes outside the table.
 *         Any thread may call it.
 */
FAAS_EXTERN const char *faas_err_name(int err);

FAAS_END_DECLS

#endif /* FAAS_ERRORS_H */

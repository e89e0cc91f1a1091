/*
 * libfaas — common macros shared by every public header.
 */
#ifndef FAAS_COMMON_H
#define FAAS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && __GNUC__ >= 4
#define FAAS_EXTERN __attribute__((visibility("default")))
#else
#define FAAS_EXTERN
#endif

#if defined(__GNUC__)
#define FAAS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FAAS_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
#define FAAS_BEGIN_DECLS extern "C" {
#define FAAS_END_DECLS }
#else
#define FAAS_BEGIN_DECLS
#define FAAS_END_DECLS
#endif

/** A runtime (faas/runtime.h). Opaque; declared here because activation.h and
 *  billing.h take one too. */
typedef struct faas_runtime faas_runtime;

#endif /* FAAS_COMMON_H */

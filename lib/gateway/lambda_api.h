/*
 * libfaas gateway — Lambda's Invoke API (lambda_api.c), one of the
 * management API's parts: manage.c hands it the requests whose path is
 * /2015-03-31/functions/{FunctionName}/invocations, after the access check.
 */
#ifndef FAAS_LIB_GATEWAY_LAMBDA_API_H
#define FAAS_LIB_GATEWAY_LAMBDA_API_H

#include "http.h"

/* Answer (now or when the call completes) an Invoke request for the
 * FunctionName ident (ident_len bytes: a name, name:qualifier or an ARN). */
void faas__lambda_invoke(faas__http_exchange *x, faas_runtime *rt, const faas__http_request *r,
                         const char *ident, size_t ident_len);

#endif /* FAAS_LIB_GATEWAY_LAMBDA_API_H */

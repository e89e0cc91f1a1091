/*
 * libfaas — Function-as-a-Service inside a host process. The umbrella header.
 */
#ifndef FAAS_H
#define FAAS_H

#include "faas/common.h"
#include "faas/version.h"
#include "faas/errors.h"
#include "faas/activation.h"
#include "faas/handler.h"
#include "faas/runtime.h"
#include "faas/fn.h"
#include "faas/invoke.h"
#include "faas/trigger.h"
#include "faas/cron.h"
#include "faas/manifest.h"
#include "faas/billing.h"
#include "faas/sys/billing.h"
#include "faas/sys/log.h"
#include "faas/sys/state.h"
#include "faas/sys/store.h"

#endif /* FAAS_H */

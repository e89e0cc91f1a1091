/* The library version, read at run time (faas_version). */
#include "core.h"

#define FAAS__STR2(x) #x
#define FAAS__STR(x) FAAS__STR2(x)

const char *faas_version(void)
{
	return FAAS__STR(FAAS_VERSION_MAJOR) "." FAAS__STR(FAAS_VERSION_MINOR) "." FAAS__STR(
		FAAS_VERSION_PATCH);
}

unsigned int faas_version_number(void)
{
	return FAAS_VERSION_NUMBER;
}

// The public headers used from C++: the declarations must have C linkage
// (this program links against libfaas only if they do), and FAAS_MODULE must
// work in a C++ handler object.
#include <cstdio>
#include <cstring>

#include <faas.h>

FAAS_MODULE(nullptr, nullptr);

extern "C" int cxx_handler(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	*result = cJSON_CreateTrue();
	return 0;
}

int main()
{
	faas_runtime *rt = nullptr;
	faas_runtime_options o;
	faas_fn_options fo;
	faas_activation *act = nullptr;
	faas_billing_totals totals;
	const faas_activation *list[2] = {nullptr, nullptr};
	int n = 0;
	int rc = 0;

	if (std::strcmp(faas_err_name(FAAS_EINVAL), "FAAS_EINVAL") != 0)
		return 1;
	if (faas_module_descriptor.abi_version != FAAS_ABI_VERSION)
		return 2;
	if (faas_runtime_options_init(&o, FAAS_RUNTIME_OPTIONS_VERSION) != 0 ||
	    faas_runtime_new(&rt, &o) != 0)
		return 3;
	faas_fn_options_init(&fo, FAAS_FN_OPTIONS_VERSION);
	fo.handler = cxx_handler;
	if (faas_fn_register(nullptr, rt, "cxx", &fo) != 0 ||
	    faas_invoke_sync(&act, rt, "cxx", nullptr) != 0)
		rc = 4;
	else if (faas_activation_status(act) != FAAS_STATUS_SUCCESS ||
		 !cJSON_IsTrue(faas_activation_result(act)))
		rc = 5;
	else if (faas_billing_totals_get(&totals, rt, "cxx") != 0 ||
		 totals.version != FAAS_BILLING_TOTALS_VERSION || totals.requests != 1)
		rc = 6; /* faas/billing.h */
	else if ((n = faas_activation_list(list, 2, rt, nullptr)) != 1)
		rc = 7;
	faas_activation_list_free(list, n > 0 ? static_cast<size_t>(n) : 0);
	faas_activation_free(act);
	faas_runtime_free(rt);
	std::printf("%s\n", rc == 0 ? "ok" : "failed");
	return rc;
}

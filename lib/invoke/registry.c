/* Registering functions with their executors: the public faas_fn_register,
 * faas_fn_unregister and faas_fn_warm. The function object is call/'s; what
 * loading or starting it means is its executor's. */
#include "invoke.h"

int faas_fn_register(faas_fn **out, faas_runtime *rt, const char *name,
		     const faas_fn_options *opts)
{
	faas_fn_options defaults = FAAS_FN_OPTIONS_INIT;
	const faas_fn_options *o = opts ? opts : &defaults;
	const faas__exec_ops *exec;
	faas_fn *fn;
	int rc;

	if (out)
		*out = NULL;
	if (!rt)
		return FAAS_EINVAL;
	rc = faas__fn_check(rt, name, o);
	if (rc != 0)
		return rc;
	exec = faas__exec_of(o->isolation);
	if (exec->check && (rc = exec->check(rt, name, o)) != 0)
		return rc;
	if (faas_fn_lookup(rt, name))
		return faas__fail(rt, FAAS_EEXIST, "%s: a function with this name exists", name);
	rc = faas__fn_new(&fn, rt, name, o);
	if (rc != 0)
		return rc;
	fn->exec = exec;
	if (exec->attach && (rc = exec->attach(fn, o)) != 0) {
		faas__fn_discard(fn);
		return rc;
	}
	faas__fn_link(fn);
	if (out)
		*out = fn;
	return 0;
}

static void unregister(faas_fn *fn)
{
	const faas__exec_ops *exec = fn->exec;

	if (exec->detach)
		exec->detach(fn);
	faas__fn_unlink(fn);
}

int faas_fn_unregister(faas_runtime *rt, const char *name)
{
	faas_fn *fn;

	if (!rt || !name)
		return FAAS_EINVAL;
	fn = faas_fn_lookup(rt, name);
	if (!fn)
		return faas__fail(rt, FAAS_ENOTFOUND, "%s: no such function", name);
	unregister(fn);
	return 0;
}

void faas__fn_unregister_all(faas_runtime *rt)
{
	while (rt->fns)
		unregister(rt->fns);
}

bool faas_fn_warm(const faas_fn *fn)
{
	const faas__exec_ops *exec;

	if (!fn)
		return false;
	exec = fn->exec;
	return exec->warm ? exec->warm(fn) : false;
}

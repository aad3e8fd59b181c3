/* SPDX-License-Identifier: MIT */
/*
 * fuzz_adv_path.c - the SIMD receive/transmit loops of the Intel rings
 * (drivers/intel/adv_path.c) against the scalar ones: the input is the
 * device's write-back descriptors (rx), the buffers to post (rx refill) or
 * the frames to send (tx); every variant this CPU runs must return and
 * write exactly what the scalar loop does (adv_path_compare.h). ASan
 * checks that no variant reads or writes outside its arrays.
 */
#include "adv_path_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "sse4.1", "avx2" };
	static struct cmp_env env;
	static bool ready;

	if (!ready) {
		if (cmp_env_init(&env) < 0)
			abort();
		ready = true;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct adv_path *v = adv_path_by_name(names[i]);

		if (v == NULL)
			abort();
		if (!adv_path_supported(v))
			continue;
		if (adv_path_compare(&env, v, data, size) < 0) {
			fprintf(stderr, "fuzz_adv_path: %s differs from scalar: %s\n",
				v->name, env.why);
			abort();
		}
	}
	return 0;
}

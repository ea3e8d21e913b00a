/* Placeholder until section equality lands: everything differs. */
#include "model.h"

bool hearth_model_services_equal(const struct hearth_model *a, const struct hearth_model *b) { return a == b; }
bool hearth_model_nat_equal(const struct hearth_model *a, const struct hearth_model *b) { return a == b; }
bool hearth_model_dns_equal(const struct hearth_model *a, const struct hearth_model *b) { return a == b; }
bool hearth_model_proxy_equal(const struct hearth_model *a, const struct hearth_model *b) { return a == b; }
bool hearth_model_l2_equal(const struct hearth_model *a, const struct hearth_model *b) { return a == b; }

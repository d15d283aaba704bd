/* libFuzzer target: OTLP/JSON traces decoding must never crash, leak or emit
 * a string that is not valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>

#include "core/utf8.h"
#include "otlp/otlp.h"

#include "fuzz_json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return lo_fuzz_json_one(LO_SIGNAL_SPANS, data, size);
}

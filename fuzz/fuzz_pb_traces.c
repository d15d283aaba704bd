/*
 * fuzz_pb_traces.c — libFuzzer target: the protobuf walker on arbitrary bytes
 * as an OTLP traces request.  Decodes with a fresh arena and batch, checks
 * the invariants of otlp.h on what it accepts, frees.
 */
#include "fuzz_pb_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_pb_one(LO_SIGNAL_SPANS, data, size);
}

#include "otlp/pb_dec.h"
int lo_pbd_metrics(lo_pbd_t *d, const uint8_t *p, size_t n) { (void)p; (void)n; return lo_pbd_fail(d, "protobuf decoding of this signal is not implemented yet"); }

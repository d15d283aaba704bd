/* The type-defined order of values, for statistics and page indexes
 * (parquet.thrift, ColumnOrder): signed integers, IEEE doubles, and byte
 * strings compared as unsigned bytes. */
#include "cold/pq_internal.h"

int lo_pq_compare(lo_pq_type_t type, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    switch (type) {
    case LO_PQ_BOOLEAN: return (int)(a[0] != 0) - (int)(b[0] != 0);
    case LO_PQ_INT32: {
        int32_t x = (int32_t)lo_le32(a), y = (int32_t)lo_le32(b);
        return (x > y) - (x < y);
    }
    case LO_PQ_INT64: {
        int64_t x = (int64_t)lo_le64(a), y = (int64_t)lo_le64(b);
        return (x > y) - (x < y);
    }
    case LO_PQ_FLOAT: {
        uint32_t ux = lo_le32(a), uy = lo_le32(b);
        float x, y;
        memcpy(&x, &ux, 4);
        memcpy(&y, &uy, 4);
        return (x > y) - (x < y);
    }
    case LO_PQ_DOUBLE: {
        uint64_t ux = lo_le64(a), uy = lo_le64(b);
        double x, y;
        memcpy(&x, &ux, 8);
        memcpy(&y, &uy, 8);
        return (x > y) - (x < y);
    }
    default: {
        size_t n = alen < blen ? alen : blen;
        int c = n ? memcmp(a, b, n) : 0;
        if (c != 0)
            return c;
        return (alen > blen) - (alen < blen);
    }
    }
}

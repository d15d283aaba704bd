/*
 * fuzz_objstore_xml.c — libFuzzer target: the bounded XML tag scanner that
 * reads S3's answers (cold/objstore_internal.h).  The input is copied to an
 * exactly-sized buffer so ASan sees any read past it; every element found
 * must lie inside the input, the position must only move forward, and
 * decoded text must be NUL-terminated within its buffer.  Then the lookups
 * the S3 backend makes on a ListObjectsV2 answer are run over the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cold/objstore_internal.h"

static void scan(const char *xml, size_t len, const char *tag)
{
    size_t pos = 0;
    lo_str_t c;
    char text[64];
    for (int i = 0; i < 10000; i++) {
        size_t before = pos;
        if (lo_os_xml_next(xml, len, &pos, tag, &c) != LO_OK)
            return;
        if (pos <= before || pos > len || c.p < xml || c.p + c.len > xml + len)
            abort();
        if (lo_os_xml_text(c, text, sizeof text) == LO_OK && strnlen(text, sizeof text) == sizeof text)
            abort();
        /* elements nested in this one, as the listing reads Contents */
        size_t inner = 0;
        lo_str_t k;
        while (lo_os_xml_next(c.p, c.len, &inner, "Key", &k) == LO_OK)
            if (k.p < c.p || k.p + k.len > c.p + c.len)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = malloc(size ? size : 1);
    if (!xml)
        return 0;
    memcpy(xml, data, size);
    static const char *const tags[] = {
        "Contents", "Key", "Size", "IsTruncated", "NextContinuationToken", "Code", "UploadId", "Error"
    };
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        scan(xml, size, tags[i]);
    free(xml);
    return 0;
}

/* kg_names.c — entity names to node ids, relation types to engram's types (kg_names.h). */
#include "mcp/kg_names.h"

#include "util/sha256.h"

#include <stdio.h>
#include <string.h>

static bool kept(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void eg_kg_entity_id(const char *name, size_t len, char out[EG_KG_ID_MAX]) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    memcpy(out, "kg:", 3);
    n = 3;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        size_t need = kept(c) ? 1 : 3;
        if (n + need > EG_KG_ID_MAX - 1) {
            uint8_t digest[EG_SHA256_BYTES];
            char digits[EG_SHA256_HEX_BYTES];
            eg_sha256(name, len, digest);
            eg_sha256_hex(digest, digits);
            snprintf(out, EG_KG_ID_MAX, "kgh:%s", digits);
            return;
        }
        if (need == 1) {
            out[n++] = (char)c;
        } else {
            out[n++] = '.';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

bool eg_kg_is_entity_id(const char *id) { return strncmp(id, "kg:", 3) == 0 || strncmp(id, "kgh:", 4) == 0; }

const char *eg_kg_engram_type(const char *relation_type) {
    static const char *const types[] = {"USES",          "PRODUCES",          "REQUIRES",    "CAUSES",
                                        "PART_OF",       "SIMILAR_TO",        "IMPLEMENTS",  "IMPROVES_ON",
                                        "CONSOLIDATED_INTO", "SOURCE_OF",     "RELATES_TO",  "HAS_CONTEXT",
                                        "DERIVED_FROM",  "SUPERSEDES",        "DEPENDS_ON",  "TEMPORAL_BEFORE",
                                        "TEMPORAL_AFTER"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i], relation_type) == 0) return types[i];
    return "RELATES_TO";
}

/* json_check.c — see json_check.h. */
#include "util/json_check.h"

#include <string.h>

bool eg_json_has_hidden_nul(json_t *v) {
    if (json_is_string(v)) return strlen(json_string_value(v)) != json_string_length(v);
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) if (eg_json_has_hidden_nul(item)) return true;
        return false;
    }
    if (json_is_object(v)) {
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it))
            if (strlen(json_object_iter_key(it)) != json_object_iter_key_len(it) ||
                eg_json_has_hidden_nul(json_object_iter_value(it)))
                return true;
    }
    return false;
}

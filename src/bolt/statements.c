/* statements.c — the statement interface's result type (see statements.h); the engine that fills the interface
 * is in cypher_statements.c. */
#include "bolt/statements.h"

void eg_bolt_result_free(eg_bolt_result *result) {
    eg_ps_value_free(&result->fields);
    eg_ps_value_free(&result->records);
    eg_ps_value_free(&result->stats);
    result->type = NULL;
}

/* gql_status.c — Neo4j code to GQL status object, for Bolt 5.7+ FAILURE (see gql_status.h). */
#include "bolt/gql_status.h"

#include <stdbool.h>
#include <string.h>

typedef struct code_mapping {
    const char *neo4j_code;
    eg_bolt_gql_status status;
} code_mapping;

#define CLIENT "CLIENT_ERROR"
#define TRANSIENT "TRANSIENT_ERROR"
#define DATABASE "DATABASE_ERROR"

/* Where Neo4j sends a general status with a specific cause (42001 with 42I06 "invalid input" beneath it, for
 * instance), engram sends the general one alone: it has no finer account of the failure to put in a cause. A code
 * that engram uses for failures Neo4j tells apart by GQLSTATUS (ArithmeticError: division by zero 22012, overflow
 * 22003; ConstraintValidationFailed: a uniqueness violation 22N79, a deleted node that still has relationships)
 * gets the class's own code, 22000 "data exception", which is true of each. */
static const code_mapping mappings[] = {
    {"Neo.ClientError.Statement.SyntaxError",
     {"42001", "error: syntax error or access rule violation - invalid syntax", CLIENT}},
    {"Neo.ClientError.Statement.SemanticError",
     {"42001", "error: syntax error or access rule violation - invalid syntax", CLIENT}},
    {"Neo.ClientError.Statement.ParameterMissing",
     {"42N51", "error: syntax error or access rule violation - invalid parameter", CLIENT}},
    {"Neo.ClientError.Statement.TypeError", {"22G03", "error: data exception - invalid value type", CLIENT}},
    {"Neo.ClientError.Statement.ArgumentError", {"22N11", "error: data exception - invalid argument", CLIENT}},
    {"Neo.ClientError.Statement.ArithmeticError", {"22000", "error: data exception", CLIENT}},
    {"Neo.ClientError.Schema.ConstraintValidationFailed", {"22000", "error: data exception", CLIENT}},
    {"Neo.ClientError.Procedure.ProcedureNotFound",
     {"42N08", "error: syntax error or access rule violation - no such procedure", CLIENT}},
    {"Neo.ClientError.Database.DatabaseNotFound",
     {"22N51", "error: data exception - graph reference not found", CLIENT}},
    {"Neo.ClientError.Security.Unauthorized",
     {"42NFF", "error: syntax error or access rule violation - permission/access denied", CLIENT}},
    {"Neo.ClientError.Request.Invalid", {"08N06", "error: connection exception - protocol error", CLIENT}},
    {"Neo.ClientError.Request.InvalidFormat", {"08N06", "error: connection exception - protocol error", CLIENT}},
    /* Neo4j terminates a transaction past its time with the client-error termination status, the reason in its
     * message */
    {"Neo.ClientError.Transaction.TransactionTimedOut",
     {"25N14", "error: invalid transaction state - transaction termination client error", CLIENT}},
    {"Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
     {"25N14", "error: invalid transaction state - transaction termination client error", CLIENT}},
    {"Neo.TransientError.General.DatabaseUnavailable",
     {"08N09", "error: connection exception - database unavailable", TRANSIENT}},
    {"Neo.TransientError.General.OutOfMemoryError",
     {"51N36", "error: system configuration or operation exception - out of memory", TRANSIENT}},
    {"Neo.DatabaseError.General.OutOfMemoryError",
     {"51N36", "error: system configuration or operation exception - out of memory", DATABASE}},
};

#define UNEXPECTED_STATUS "50N42"
#define UNEXPECTED_DESCRIPTION "error: general processing exception - unexpected error"

static bool starts_with(const char *text, const char *prefix) { return strncmp(text, prefix, strlen(prefix)) == 0; }

eg_bolt_gql_status eg_bolt_gql_status_for(const char *neo4j_code) {
    for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++)
        if (strcmp(mappings[i].neo4j_code, neo4j_code) == 0) return mappings[i].status;
    const char *classification = starts_with(neo4j_code, "Neo.TransientError.") ? TRANSIENT
                                 : starts_with(neo4j_code, "Neo.DatabaseError.") ? DATABASE
                                                                                   : CLIENT;
    return (eg_bolt_gql_status){UNEXPECTED_STATUS, UNEXPECTED_DESCRIPTION, classification};
}

eg_bolt_gql_status eg_bolt_gql_status_invalid_state(void) {
    return (eg_bolt_gql_status){"08N10", "error: connection exception - invalid server state", CLIENT};
}

/* gql_status.h — the GQL status object that a Bolt 5.7+ FAILURE carries beside the Neo4j code
 * (neo4j.com/docs/bolt/current/bolt/message/#messages-failure): for each Neo4j code engram sends, the GQLSTATUS
 * code, its status description and the error classification Neo4j gives the same failure
 * (neo4j.com/docs/status-codes/current/errors/gql-errors/). Drivers of 5.26+ show the GQLSTATUS to the user and
 * still derive `code` from the Neo4j code, so the mapping decides what a user sees, not how a driver reacts. */
#ifndef ENGRAM_BOLT_GQL_STATUS_H
#define ENGRAM_BOLT_GQL_STATUS_H

typedef struct eg_bolt_gql_status {
    const char *gql_status;     /* five characters: class (2) and subclass (3), "42001" */
    const char *description;    /* "error: <condition> - <subcondition>", as Neo4j's status description starts */
    const char *classification; /* CLIENT_ERROR, TRANSIENT_ERROR or DATABASE_ERROR */
} eg_bolt_gql_status;

/* The status for a Neo4j code ("Neo.ClientError.Statement.SyntaxError"). A code without an entry of its own gets
 * Neo4j's documented default, 50N42 (general processing exception - unexpected error), classified by the code's
 * class (Neo.ClientError / Neo.TransientError / Neo.DatabaseError). Never NULL. */
eg_bolt_gql_status eg_bolt_gql_status_for(const char *neo4j_code);

/* 08N10, the status of a request the connection's state does not take (PULL in READY …): Neo4j gives it to its
 * "Message X cannot be handled by a session in the Y state" failures, whose Neo4j code is Request.Invalid, a code
 * that otherwise means a malformed request (08N06). */
eg_bolt_gql_status eg_bolt_gql_status_invalid_state(void);

#endif

/* messages.h — the tags of Bolt's message structures, both ways, shared by the server (session.c) and the client
 * (client_connection.c) (neo4j.com/docs/bolt/current/bolt/message/). */
#ifndef ENGRAM_BOLT_MESSAGES_H
#define ENGRAM_BOLT_MESSAGES_H

/* Requests, client to server. */
enum {
    MSG_HELLO = 0x01,
    MSG_GOODBYE = 0x02,
    MSG_RESET = 0x0F,
    MSG_RUN = 0x10,
    MSG_BEGIN = 0x11,
    MSG_COMMIT = 0x12,
    MSG_ROLLBACK = 0x13,
    MSG_DISCARD = 0x2F,
    MSG_PULL = 0x3F,
    MSG_TELEMETRY = 0x54,
    MSG_ROUTE = 0x66,
    MSG_LOGON = 0x6A,
    MSG_LOGOFF = 0x6B
};

/* Answers, server to client. */
enum { MSG_SUCCESS = 0x70, MSG_RECORD = 0x71, MSG_IGNORED = 0x7E, MSG_FAILURE = 0x7F };

#endif

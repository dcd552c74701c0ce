/* fault_proxy.h — what the network fault tests' proxies share (test_qdrant_network.c over HTTP,
 * test_neo4j_network.c over Bolt): a listening socket on a loopback port the OS picks, a thread per accepted
 * connection running the test's own handler, one fault rule at a time, the counters the tests read, holding and
 * releasing a request, and a stop that closes every connection and waits for its thread. The handlers, which know
 * the protocol, call proxy_decide for each request they read and proxy_wait_as_told / proxy_done around forwarding
 * it. */
#ifndef ENGRAM_TEST_FAULT_PROXY_H
#define ENGRAM_TEST_FAULT_PROXY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t now_ms(void);
void sleep_ms(unsigned ms);

/* Writes all of data (no SIGPIPE); false when the peer is gone. */
bool send_all(int fd, const void *data, size_t len);
/* A connected socket to 127.0.0.1:port, or -1. */
int connect_loopback(uint16_t port);

typedef enum proxy_action {
    PROXY_FORWARD, /* pass the request to the server and its answer back */
    PROXY_FAIL,    /* answer an error in the server's place (HTTP: 500; Bolt: FAILURE of fail_code); not sent on */
    PROXY_DELAY,   /* forward after `arg` ms */
    PROXY_HOLD,    /* keep the request until proxy_release, then forward it */
    PROXY_CUT,     /* Bolt: forward the request and `arg` RECORDs of its answer, then close both sides */
} proxy_action;

#define PROXY_CONNECTIONS_MAX 64

typedef struct fault_proxy fault_proxy;
/* Serves one accepted connection until either side ends it or the proxy stops (the caller closes fd). */
typedef void (*proxy_handler)(fault_proxy *p, int fd);

/* One rule at a time: requests whose description (HTTP: "METHOD PATH"; Bolt: "RUN <statement>", "COMMIT" ...)
 * contains `match` take `action`, from the (skip+1)-th such request on, `times` of them (negative: all). */
struct fault_proxy {
    int listen_fd;
    uint16_t port, upstream_port;
    proxy_handler handler;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char match[128];
    char fail_code[128]; /* Bolt: the FAILURE's code */
    proxy_action action;
    int skip, times, arg;
    int requests, matched, in_flight, holding, connections;
    bool released, stopping;
    int fds[PROXY_CONNECTIONS_MAX];
};

bool proxy_start(fault_proxy *p, uint16_t upstream_port, proxy_handler handler);
/* Stops accepting, shuts every connection down and waits for their threads to end. */
void proxy_stop(fault_proxy *p);
/* The rule (see fault_proxy); arg is PROXY_DELAY's milliseconds or PROXY_CUT's records. Resets the matched count
 * and any release. */
void proxy_rule(fault_proxy *p, const char *match, proxy_action action, int skip, int times, int arg);
void proxy_fail_code(fault_proxy *p, const char *code);

/* For the handlers: counts a request and says what the rule does with it (*arg: the rule's arg); the request is
 * in flight until proxy_done. */
proxy_action proxy_decide(fault_proxy *p, const char *description, int *arg);
/* PROXY_DELAY: waits `arg` ms; PROXY_HOLD: until released. Both end early when the proxy stops. */
void proxy_wait_as_told(fault_proxy *p, proxy_action action, int arg);
void proxy_done(fault_proxy *p);
bool proxy_stopping(fault_proxy *p);

/* Requests seen (every one, whatever the rule did with it), and those the rule's match found since it was set. */
int proxy_requests(fault_proxy *p);
int proxy_matched(fault_proxy *p);
/* Waits (at most limit_ms) until a request is held; true if one is. */
bool proxy_wait_held(fault_proxy *p, unsigned limit_ms);
void proxy_release(fault_proxy *p);
/* Waits (at most limit_ms) until no request is in flight: a delayed request the client gave up on has reached the
 * server, as a slow server's would have. */
bool proxy_wait_idle(fault_proxy *p, unsigned limit_ms);

#endif

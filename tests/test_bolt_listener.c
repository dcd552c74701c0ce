/* test_bolt_listener.c — the Bolt transport on loopback: a whole conversation over a real socket, the bound on
 * connections (a FAILURE at HELLO past it), the idle timeout, and a stop with connections still open. Every read
 * has a 5 s timeout. */
#include "bolt/chunking.h"
#include "bolt/listener.h"
#include "bolt/packstream.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static eg_bolt_listener *start(unsigned max_connections, unsigned idle_timeout_ms) {
    eg_bolt_listener_options options = {.address = "127.0.0.1:0",
                                        .user = "neo4j",
                                        .password = "secret",
                                        .max_connections = max_connections,
                                        .idle_timeout_ms = idle_timeout_ms,
                                        .max_message_bytes = 1 << 20,
                                        .routing_ttl_seconds = 300,
                                        .statements = eg_bolt_literal_return_statements()};
    eg_bolt_listener *l = NULL;
    eg_error err;
    CHECK_OK(eg_bolt_listener_start(&options, &l, &err), &err);
    return l;
}

static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

static void send_message(int fd, eg_ps_writer *w) {
    eg_byte_buffer framed = {0};
    CHECK(eg_bolt_chunk_message((const uint8_t *)w->out.data, w->out.len, &framed, SIZE_MAX));
    CHECK(send(fd, framed.data, framed.len, MSG_NOSIGNAL) == (ssize_t)framed.len);
    free(framed.data);
    free(w->out.data);
}

static void write_text(eg_ps_writer *w, const char *text) { eg_ps_write_string(w, text, strlen(text)); }

/* Reads answers until `count` messages have come; returns the tag of each (0 if it did not come) in tags. */
static void read_answers(int fd, size_t count, uint8_t *tags, int64_t *first_record_value) {
    eg_bolt_dechunker d = {.max_message = 1 << 20};
    uint8_t buffer[4096];
    size_t have = 0;
    memset(tags, 0, count);
    while (have < count) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        for (size_t at = 0; at < (size_t)n && have < count;) {
            size_t used;
            eg_error err;
            if (eg_bolt_dechunker_feed(&d, buffer + at, (size_t)n - at, &used, &err) != EG_OK) break;
            at += used;
            if (!d.complete) continue;
            eg_ps_value v;
            if (eg_ps_decode((const uint8_t *)d.message.data, d.message.len, EG_PS_BOLT_5, true, &v, &err) == EG_OK) {
                tags[have] = v.as.list.tag;
                if (v.as.list.tag == 0x71 && first_record_value != NULL)
                    *first_record_value = v.as.list.items[0].as.list.items[0].as.integer;
                eg_ps_value_free(&v);
            }
            have++;
            eg_bolt_dechunker_next(&d);
        }
    }
    eg_bolt_dechunker_free(&d);
}

static void handshake_5_4(int fd) {
    const uint8_t opening[20] = {0x60, 0x60, 0xB0, 0x17, 0, 0, 4, 5};
    CHECK(send(fd, opening, 20, MSG_NOSIGNAL) == 20);
    uint8_t agreed[4] = {0};
    CHECK(recv(fd, agreed, 4, MSG_WAITALL) == 4);
    CHECK(agreed[2] == 4 && agreed[3] == 5);
}

static void hello_and_logon(int fd, const char *password) {
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, 0x01, 1);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "user_agent");
    write_text(&w, "test/1");
    send_message(fd, &w);
    w = (eg_ps_writer){0};
    eg_ps_write_struct_header(&w, 0x6A, 1);
    eg_ps_write_dict_header(&w, 3);
    write_text(&w, "scheme");
    write_text(&w, "basic");
    write_text(&w, "principal");
    write_text(&w, "neo4j");
    write_text(&w, "credentials");
    write_text(&w, password);
    send_message(fd, &w);
}

/* True when the server closed the connection (a read returns end of stream, not a timeout). */
static bool closed_by_server(int fd) {
    uint8_t byte;
    return recv(fd, &byte, 1, 0) == 0;
}

TEST(return_1_over_a_socket) {
    eg_bolt_listener *l = start(8, 10000);
    REQUIRE(l != NULL);
    int fd = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(fd);
    hello_and_logon(fd, "secret");
    eg_ps_writer w = {0};
    eg_ps_write_struct_header(&w, 0x10, 3);
    write_text(&w, "RETURN 1 AS n");
    eg_ps_write_dict_header(&w, 0);
    eg_ps_write_dict_header(&w, 0);
    send_message(fd, &w);
    w = (eg_ps_writer){0};
    eg_ps_write_struct_header(&w, 0x3F, 1);
    eg_ps_write_dict_header(&w, 1);
    write_text(&w, "n");
    eg_ps_write_int(&w, -1);
    send_message(fd, &w);
    uint8_t tags[5];
    int64_t value = 0;
    read_answers(fd, 5, tags, &value);
    CHECK(tags[0] == 0x70 && tags[1] == 0x70 && tags[2] == 0x70 && tags[3] == 0x71 && tags[4] == 0x70);
    CHECK(value == 1);
    close(fd);
    eg_bolt_listener_stop(l);
}

TEST(wrong_password_is_a_failure_then_close) {
    eg_bolt_listener *l = start(8, 10000);
    REQUIRE(l != NULL);
    int fd = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(fd);
    hello_and_logon(fd, "guess");
    uint8_t tags[2];
    read_answers(fd, 2, tags, NULL);
    CHECK(tags[0] == 0x70 && tags[1] == 0x7F);
    CHECK(closed_by_server(fd));
    close(fd);
    eg_bolt_listener_stop(l);
}

TEST(connections_past_the_bound_are_refused_at_hello_and_idle_ones_time_out) {
    eg_bolt_listener *l = start(1, 1000);
    REQUIRE(l != NULL);
    int first = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(first); /* the first is being served */
    int second = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(second);
    hello_and_logon(second, "secret");
    uint8_t tags[1];
    read_answers(second, 1, tags, NULL);
    CHECK(tags[0] == 0x7F);
    CHECK(closed_by_server(second));
    close(second);
    CHECK(closed_by_server(first)); /* silent past 1 s */
    close(first);
    eg_bolt_listener_stop(l);
}

TEST(stop_closes_open_connections) {
    eg_bolt_listener *l = start(8, 60000);
    REQUIRE(l != NULL);
    int fd = connect_to(eg_bolt_listener_port(l));
    handshake_5_4(fd);
    eg_bolt_listener_stop(l);
    CHECK(closed_by_server(fd));
    close(fd);
}

TEST(bad_addresses_are_refused) {
    const char *addresses[] = {"127.0.0.1", "127.0.0.1:99999", "[::1:7687", ":7687"};
    for (size_t i = 0; i < 4; i++) {
        eg_bolt_listener_options options = {.address = addresses[i],
                                            .max_connections = 1,
                                            .idle_timeout_ms = 1000,
                                            .max_message_bytes = 1024,
                                            .statements = eg_bolt_literal_return_statements()};
        eg_bolt_listener *l = NULL;
        eg_error err;
        CHECK(eg_bolt_listener_start(&options, &l, &err) == EG_INVALID_ARGUMENT);
        CHECK(l == NULL);
    }
}

int main(void) {
    RUN(return_1_over_a_socket);
    RUN(wrong_password_is_a_failure_then_close);
    RUN(connections_past_the_bound_are_refused_at_hello_and_idle_ones_time_out);
    RUN(stop_closes_open_connections);
    RUN(bad_addresses_are_refused);
    return test_summary();
}

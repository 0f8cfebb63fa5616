/* Links between nodes: the record size a port type fixes, and the marks and
 * kernel buffers a link's socket gets from it (engine/run/link_window.h). */
#include <zmq.h>

#include "check.h"
#include "link_window.h"

static int option(void *sock, int name)
{
    int value = -1;
    size_t size = sizeof value;
    CHECK(zmq_getsockopt(sock, name, &value, &size) == 0);
    return value;
}

/* The marks and buffers a new PUSH socket gets for a link of `type`,
 * starting from --queue 16 as socket_tune sets it. */
static void tuned(void *ctx, const char *type, int *hwm, int *sndbuf)
{
    void *sock = zmq_socket(ctx, ZMQ_PUSH);
    int queue = 16;
    zmq_setsockopt(sock, ZMQ_SNDHWM, &queue, sizeof queue);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &queue, sizeof queue);
    link_window_tune(sock, type, 16);
    *hwm = option(sock, ZMQ_SNDHWM);
    CHECK_INT(option(sock, ZMQ_RCVHWM), *hwm);
    *sndbuf = option(sock, ZMQ_SNDBUF);
    zmq_close(sock);
}

int main(void)
{
    CHECK(link_window_record_bytes("image/u8[224,224,3]") == 150528);
    CHECK(link_window_record_bytes("tensor/f32[2048]") == 8192);
    CHECK(link_window_record_bytes("tensor/f32[1,2048]") == 8192);
    CHECK(link_window_record_bytes("tensor/f32[n]") == 0);
    CHECK(link_window_record_bytes("image/u8[h,w,3]") == 0);
    CHECK(link_window_record_bytes("bytes/jpeg") == 0);
    CHECK(link_window_record_bytes("*") == 0);
    CHECK(link_window_record_bytes("") == 0);

    void *ctx = zmq_ctx_new();
    int hwm, sndbuf;
    tuned(ctx, "image/u8[224,224,3]", &hwm, &sndbuf); /* 150 KB: 1 fits, never below 2 */
    CHECK_INT(hwm, LINK_MIN_HWM);
    CHECK_INT(sndbuf, LINK_SOCKET_BYTES);
    tuned(ctx, "image/u8[100,100,3]", &hwm, &sndbuf); /* 30 KB: 256 KiB of them */
    CHECK_INT(hwm, LINK_PIPE_BYTES / 30000);
    tuned(ctx, "tensor/f32[2048]", &hwm, &sndbuf); /* 8 KiB: 32 fit, --queue bounds */
    CHECK_INT(hwm, 16);
    CHECK_INT(sndbuf, LINK_SOCKET_BYTES);
    tuned(ctx, "bytes/jpeg", &hwm, &sndbuf); /* sizes vary: untouched */
    CHECK_INT(hwm, 16);
    CHECK_INT(sndbuf, -1); /* ZeroMQ's default: the kernel's own */
    zmq_ctx_term(ctx);
    return check_exit();
}

#include "link_window.h"

#include <string.h>
#include <zmq.h>

#include "port_type.h"

/* As the wire checks size payloads (wire_check.c): image bytes, tensor
 * float32. */
static size_t element_bytes(const port_type *t)
{
    return strcmp(t->kind, "image") == 0 ? 1 : strcmp(t->kind, "tensor") == 0 ? 4 : 0;
}

size_t link_window_record_bytes(const char *type)
{
    port_type t;
    char why[128];
    if (!type || port_type_parse(type, &t, why, sizeof why) != 0 || t.any)
        return 0;
    size_t bytes = element_bytes(&t);
    for (uint32_t i = 0; bytes && i < t.rank; i++)
        bytes = t.dims[i].size > 0 ? bytes * (size_t)t.dims[i].size : 0;
    return t.rank ? bytes : 0;
}

void link_window_tune(void *sock, const char *type, unsigned queue_depth)
{
    size_t bytes = link_window_record_bytes(type);
    if (!bytes)
        return; /* sizes vary: --queue, and the kernel's own buffer sizes */
    int buffer = LINK_SOCKET_BYTES;
    zmq_setsockopt(sock, ZMQ_SNDBUF, &buffer, sizeof buffer);
    zmq_setsockopt(sock, ZMQ_RCVBUF, &buffer, sizeof buffer);
    size_t fit = LINK_PIPE_BYTES / bytes;
    if (fit > queue_depth)
        fit = queue_depth;
    int hwm = fit < LINK_MIN_HWM ? LINK_MIN_HWM : (int)fit;
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
}

#include "control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int control_send(void *sock, const control_header *h, const char *const *texts, size_t n)
{
    if (zmq_send(sock, h, sizeof *h, n ? ZMQ_SNDMORE : 0) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (zmq_send(sock, texts[i], strlen(texts[i]), i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    return 0;
}

static char *frame_text(zmq_msg_t *msg)
{
    size_t size = zmq_msg_size(msg);
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, zmq_msg_data(msg), size);
        text[size] = '\0';
    }
    return text;
}

int control_recv(void *sock, int flags, control_header *h, char ***texts)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    *texts = NULL;
    if (zmq_msg_recv(&msg, sock, flags) < 0) {
        zmq_msg_close(&msg);
        return -1;
    }
    memset(h, 0, sizeof *h);
    if (zmq_msg_size(&msg) == sizeof *h)
        memcpy(h, zmq_msg_data(&msg), sizeof *h);
    int n = 0;
    char **list = NULL;
    while (zmq_msg_more(&msg)) {
        if (zmq_msg_recv(&msg, sock, 0) < 0)
            break;
        char **grown = realloc(list, (n + 1) * sizeof *grown);
        char *text = frame_text(&msg);
        if (!grown || !text) {
            free(text);
            list = grown ? grown : list;
            continue; /* keep draining the message's frames */
        }
        list = grown;
        list[n++] = text;
    }
    zmq_msg_close(&msg);
    *texts = list;
    return n;
}

void control_texts_free(char **texts, int n)
{
    for (int i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
}

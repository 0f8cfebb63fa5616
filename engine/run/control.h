/*
 * control.h — the messages between instance threads and the coordinator
 * of one process (inproc only, never on the wire between hosts).
 * Frame 1 is a fixed header; further frames depend on the type.
 */
#ifndef FLOWRUN_CONTROL_H
#define FLOWRUN_CONTROL_H

#include <stddef.h>
#include <stdint.h>

enum control_type {
    CTL_READY = 1,  /* instance → coordinator: init done; frames: status, text (type or reason) */
    CTL_DONE = 2,   /* instance → coordinator: finished; frames: status, text (reason) */
    CTL_DEAD = 3,   /* instance → coordinator: frames: id, JSON line */
    CTL_COMMIT = 4, /* instance → coordinator: frames: id... */
    CTL_GO = 5,     /* coordinator → instance: start moving data */
    CTL_ABORT = 6,  /* coordinator → instance: another stage failed; fini and leave */
    CTL_COMMITS = 7, /* coordinator → source instance: frames: id... now done */
};

typedef struct control_header {
    uint8_t type;
    uint8_t status; /* fr_status, for READY and DONE */
    uint32_t stage; /* index into the graph */
    uint32_t instance;
} control_header;

/* Sends a header followed by n text frames (copied). Returns 0 or -1. */
int control_send(void *sock, const control_header *h, const char *const *texts, size_t n);

/* Receives one control message: the header and up to max text frames,
 * each malloc'd and NUL-terminated (the caller frees them with
 * control_texts_free).  Returns the number of text frames, or -1 on error
 * (EAGAIN with ZMQ_DONTWAIT, ETERM). */
int control_recv(void *sock, int flags, control_header *h, char ***texts);
void control_texts_free(char **texts, int n);

#endif

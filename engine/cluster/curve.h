/*
 * curve.h — CurveZMQ (libzmq over libsodium) on every socket that links
 * nodes, when the pipeline says `cluster: security: curve`.
 *
 * Each node has a key pair (flowrun keygen): its public key file is named
 * in the YAML for every node to read, its secret key file only on its own
 * host.  Listening sockets are CURVE servers with the node's keys; sockets
 * that connect to another node are CURVE clients that expect that node's
 * public key.  A ZAP handler (a thread on inproc://zeromq.zap.01) admits
 * a client only if its public key is one of the pipeline's nodes, tags its
 * messages with the node's name (User-Id), and logs every refusal with the
 * peer's address and key: nothing a refused peer sends reaches a stage.
 */
#ifndef FLOWRUN_CURVE_H
#define FLOWRUN_CURVE_H

#include <stddef.h>

#include "graph.h"

#define CURVE_KEY_Z85 40 /* a key as Z85 text, without the terminator */

typedef struct curve curve;

/* Reads every node's public key and `self`'s secret key and starts the
 * ZAP handler in zmq_ctx.  Returns NULL with *failed = 0 when the pipeline
 * does not ask for CURVE; NULL with *failed = 1 on an error (logged: which
 * file, which node). */
curve *curve_new(const graph *g, size_t self, void *zmq_ctx, int *failed);
void curve_free(curve *c); /* stops the handler; call before zmq_ctx_term */

/* Makes sock a CURVE server with this node's keys (before its bind to
 * endpoint, which refusals name in the log). */
int curve_server(const curve *c, void *sock, const char *endpoint);
/* Makes sock a CURVE client of node `server` (before its connect). */
int curve_client(const curve *c, void *sock, size_t server);

/* Reads a Z85 key file (40 characters, then optional whitespace) into out
 * (41 bytes).  A secret key file must not be readable by group or others.
 * Returns 0, or -1 with the reason in err. */
int curve_read_key(const char *path, int secret, char *out, char *err, size_t err_size);

/* Writes a new key pair: PREFIX.key (the secret key, mode 0600) and
 * PREFIX.pub (the public key), each a Z85 line.  Existing files are kept
 * unless overwrite.  Returns 0, or -1 with the reason in err. */
int curve_write_keypair(const char *prefix, int overwrite, char *err, size_t err_size);

#endif

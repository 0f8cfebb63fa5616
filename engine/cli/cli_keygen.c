/*
 * cli_keygen.c — `flowrun keygen PREFIX`: a CURVE key pair for one node of
 * a split run (cluster: security: curve).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "curve.h"
#include "runtime.h"

int cli_keygen(int argc, char **argv)
{
    static const char usage[] =
        "usage: flowrun keygen [--force] PREFIX\n"
        "\n"
        "Writes a CurveZMQ key pair for one node: PREFIX.key, the secret key (mode\n"
        "0600: it stays on that node's host), and PREFIX.pub, the public key (copy\n"
        "it to every node).  The pipeline names them per node:\n"
        "\n"
        "  cluster: {security: curve}\n"
        "  nodes:\n"
        "    edge: {endpoint: \"tcp://10.0.0.2:7100\", public_key: keys/edge.pub,\n"
        "           secret_key: keys/edge.key}\n"
        "\n"
        "options:\n"
        "  --force   replace existing files\n";
    if (cli_wants_help(argc, argv, usage))
        return EXIT_DELIVERED;
    const char *prefix = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (argv[i][0] == '-' || prefix) {
            cli_say(FR_LOG_ERROR, "keygen", "unexpected argument '%s'", argv[i]);
            cli_usage_error(usage);
            return EXIT_USAGE;
        } else {
            prefix = argv[i];
        }
    }
    if (!prefix) {
        cli_usage_error(usage);
        return EXIT_USAGE;
    }
    char err[4200];
    if (curve_write_keypair(prefix, force, err, sizeof err) != 0) {
        cli_say(FR_LOG_ERROR, "keygen", "%s", err);
        return EXIT_FAILED;
    }
    printf("wrote %s.key (secret, keep it on this node) and %s.pub (public)\n", prefix, prefix);
    return EXIT_DELIVERED;
}

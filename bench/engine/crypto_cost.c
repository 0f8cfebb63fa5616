/*
 * crypto_cost — what CurveZMQ's per-message cipher costs on this CPU:
 * libsodium's crypto_box_easy_afternm (XSalsa20-Poly1305 with a
 * precomputed key, what libzmq's CURVE runs on every MESSAGE) and its
 * opening, on buffers of SIZE bytes, so a hop's CURVE overhead can be
 * compared with the cipher's own cost (one seal on the sender, one open on
 * the receiver).
 *
 * usage: crypto_cost SIZE ROUNDS
 * prints: size seal_ns_per_byte open_ns_per_byte (CPU time of this process)
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t size = argc == 3 ? (size_t)atol(argv[1]) : 0;
    long rounds = argc == 3 ? atol(argv[2]) : 0;
    if (size == 0 || rounds <= 0 || sodium_init() < 0) {
        fprintf(stderr, "usage: crypto_cost SIZE ROUNDS\n");
        return 2;
    }
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    unsigned char key[crypto_box_BEFORENMBYTES], nonce[crypto_box_NONCEBYTES];
    unsigned char *plain = calloc(1, size), *sealed = malloc(size + crypto_box_MACBYTES);
    if (!plain || !sealed)
        return 1;
    if (crypto_box_keypair(pk, sk) != 0 || crypto_box_beforenm(key, pk, sk) != 0)
        return 1;
    randombytes_buf(nonce, sizeof nonce);
    double t0 = cpu_ns();
    for (long i = 0; i < rounds; i++)
        crypto_box_easy_afternm(sealed, plain, size, nonce, key);
    double t1 = cpu_ns();
    int bad = 0;
    for (long i = 0; i < rounds; i++)
        bad |= crypto_box_open_easy_afternm(plain, sealed, size + crypto_box_MACBYTES, nonce, key);
    double t2 = cpu_ns();
    printf("%zu %.3f %.3f\n", size, (t1 - t0) / rounds / size, (t2 - t1) / rounds / size);
    free(plain);
    free(sealed);
    return bad ? 1 : 0;
}

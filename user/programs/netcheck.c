/* The guest's side of the --net checks of `cargo xtask test` (xtask/src/netcheck.rs).
 *
 *   netcheck serve PORT          listen on every address (IPv4), take one connection, send
 *                                back all it receives until EOF, exit 0
 *   netcheck fetch ADDR PORT N   connect to ADDR:PORT, send "GET N\n", read N bytes (QEMU's
 *                                guest forward does not pass the host's close on), check that
 *                                they are the pattern (byte i is i*7+3 mod 251), print
 *                                "fetched N", exit 0
 *
 *   netcheck pattern FILE N      write N bytes of the pattern to FILE
 *   netcheck verify FILE N       check that FILE is exactly N bytes of the pattern, print
 *                                "verified N"
 *
 * Every failure prints a line starting with "netcheck:" and exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what) {
    printf("netcheck: %s: %s\n", what, strerror(errno));
    return 1;
}

static int serve(int port) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0) return fail("socket");
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0) return fail("bind");
    if (listen(l, 4) < 0) return fail("listen");
    printf("listening on %d\n", port);
    fflush(stdout);
    int c = accept(l, NULL, NULL);
    if (c < 0) return fail("accept");
    static char buf[65536];
    long total = 0;
    for (;;) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n < 0) return fail("read");
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(c, buf + off, n - off);
            if (w < 0) return fail("write");
            off += w;
        }
        total += n;
    }
    close(c);
    close(l);
    printf("echoed %ld bytes\n", total);
    return 0;
}

static int fetch(const char *addr, int port, long want) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return fail("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
        printf("netcheck: bad address %s\n", addr);
        return 1;
    }
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) return fail("connect");
    char req[64];
    int len = snprintf(req, sizeof req, "GET %ld\n", want);
    if (write(s, req, len) != len) return fail("write");
    static unsigned char buf[65536];
    long got = 0;
    while (got < want) {
        size_t room = want - got < (long)sizeof buf ? (size_t)(want - got) : sizeof buf;
        ssize_t n = read(s, buf, room);
        if (n < 0) return fail("read");
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != (unsigned char)(((got + i) * 7 + 3) % 251)) {
                printf("netcheck: byte %ld is %d\n", got + i, buf[i]);
                return 1;
            }
        }
        got += n;
    }
    if (got != want) {
        printf("netcheck: got %ld bytes, wanted %ld\n", got, want);
        return 1;
    }
    printf("fetched %ld\n", got);
    return 0;
}

static int pattern_file(const char *path, long n, int verify) {
    FILE *f = fopen(path, verify ? "r" : "w");
    if (!f) return fail(path);
    static unsigned char buf[65536];
    long done = 0;
    while (done < n || verify) {
        size_t chunk = n - done < (long)sizeof buf ? (size_t)(n - done) : sizeof buf;
        if (verify) {
            size_t got = fread(buf, 1, sizeof buf, f);
            if (got == 0) break;
            for (size_t i = 0; i < got; i++)
                if (done + (long)i >= n || buf[i] != (unsigned char)(((done + i) * 7 + 3) % 251)) {
                    printf("netcheck: %s differs at byte %ld\n", path, done + (long)i);
                    return 1;
                }
            done += got;
            continue;
        }
        for (size_t i = 0; i < chunk; i++) buf[i] = (unsigned char)(((done + i) * 7 + 3) % 251);
        if (fwrite(buf, 1, chunk, f) != chunk) return fail("write");
        done += chunk;
    }
    if (fclose(f) != 0) return fail("close");
    if (done != n) {
        printf("netcheck: %s has %ld bytes, wanted %ld\n", path, done, n);
        return 1;
    }
    printf("%s %ld\n", verify ? "verified" : "wrote", n);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "pattern") == 0) return pattern_file(argv[2], atol(argv[3]), 0);
    if (argc == 4 && strcmp(argv[1], "verify") == 0) return pattern_file(argv[2], atol(argv[3]), 1);
    if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "fetch") == 0)
        return fetch(argv[2], atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: netcheck serve PORT | netcheck fetch ADDR PORT BYTES\n");
    return 2;
}

/* etc_files.c - the system files a program expects: /etc/passwd and /etc/group with root and
 * nobody/nogroup, /etc/hosts naming localhost, /etc/services and /etc/protocols with the usual
 * entries (through the C library's own lookups), and a root directory that is not
 * world-writable.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/stat.h>

TEST(users_and_groups)
{
    struct passwd *pw = getpwnam("root");
    CHECK(pw != NULL);
    CHECK_EQ(pw->pw_uid, 0);
    pw = getpwnam("nobody");
    CHECK(pw != NULL);
    CHECK_EQ(pw->pw_uid, 65534);
    CHECK_EQ(pw->pw_gid, 65534);
    struct group *gr = getgrgid(65534);
    CHECK(gr != NULL);
    CHECK(strcmp(gr->gr_name, "nogroup") == 0);
    CHECK(getgrgid(0) != NULL);
}

TEST(localhost_resolves)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
    CHECK_EQ(getaddrinfo("localhost", "80", &hints, &res), 0);
    struct sockaddr_in *a = (struct sockaddr_in *)res->ai_addr;
    CHECK_EQ(ntohl(a->sin_addr.s_addr), INADDR_LOOPBACK);
    CHECK_EQ(ntohs(a->sin_port), 80);
    freeaddrinfo(res);
}

TEST(services_and_protocols)
{
    struct servent *s = getservbyname("http", "tcp");
    CHECK(s != NULL);
    CHECK_EQ(ntohs(s->s_port), 80);
    s = getservbyname("domain", "udp");
    CHECK(s != NULL);
    CHECK_EQ(ntohs(s->s_port), 53);
    s = getservbyname("ssh", "tcp");
    CHECK(s != NULL);
    CHECK_EQ(ntohs(s->s_port), 22);
    struct protoent *p = getprotobyname("udp");
    CHECK(p != NULL);
    CHECK_EQ(p->p_proto, 17);
    p = getprotobyname("tcp");
    CHECK(p != NULL);
    CHECK_EQ(p->p_proto, 6);
    /* The same through getaddrinfo's service names. */
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
    CHECK_EQ(getaddrinfo("127.0.0.1", "https", &hints, &res), 0);
    CHECK_EQ(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port), 443);
    freeaddrinfo(res);
}

TEST(root_is_not_world_writable)
{
    struct stat st;
    CHECK_OK(stat("/", &st));
    CHECK_EQ(st.st_mode & 07777, 0755);
    CHECK_OK(stat("/etc/hosts", &st));
    CHECK(S_ISREG(st.st_mode));
}

/* ifreq.c - the interface ioctls busybox ifconfig and route use, on lo (the one interface
 * every Linux machine has the same): index, name, flags, MTU, address, netmask, hardware
 * address, SIOCGIFCONF with and without a buffer, ENODEV for a missing interface, EPERM for
 * changes as nobody, and /proc/net/dev listing lo.
 * Syscalls: socket, ioctl, fork, setuid, wait4, open, read.
 */
#define _GNU_SOURCE
#define TEST_MAIN
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int req_lo(struct ifreq *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->ifr_name, "lo");
    return socket(AF_INET, SOCK_DGRAM, 0);
}

TEST(index_and_name)
{
    struct ifreq r;
    int fd = req_lo(&r);
    CHECK_OK(fd);
    CHECK_OK(ioctl(fd, SIOCGIFINDEX, &r));
    CHECK_EQ(r.ifr_ifindex, 1);
    memset(r.ifr_name, 0, sizeof r.ifr_name);
    CHECK_OK(ioctl(fd, SIOCGIFNAME, &r));
    CHECK(strcmp(r.ifr_name, "lo") == 0);
    CHECK_EQ(if_nametoindex("lo"), 1);
    strcpy(r.ifr_name, "nosuch0");
    CHECK_ERRNO(ioctl(fd, SIOCGIFINDEX, &r), ENODEV);
    CHECK_ERRNO(ioctl(fd, SIOCGIFFLAGS, &r), ENODEV);
    r.ifr_ifindex = 999999;
    CHECK_ERRNO(ioctl(fd, SIOCGIFNAME, &r), ENODEV);
    close(fd);
}

TEST(flags_mtu_and_hardware_address)
{
    struct ifreq r;
    int fd = req_lo(&r);
    CHECK_OK(fd);
    CHECK_OK(ioctl(fd, SIOCGIFFLAGS, &r));
    CHECK_EQ(r.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING), IFF_UP | IFF_LOOPBACK | IFF_RUNNING);
    CHECK_EQ(r.ifr_flags & IFF_BROADCAST, 0);
    CHECK_OK(ioctl(fd, SIOCGIFMTU, &r));
    CHECK_EQ(r.ifr_mtu, 65536);
    CHECK_OK(ioctl(fd, SIOCGIFHWADDR, &r));
    CHECK_EQ(r.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
    static const char zero[6];
    CHECK(memcmp(r.ifr_hwaddr.sa_data, zero, 6) == 0);
    close(fd);
}

TEST(address_and_netmask)
{
    struct ifreq r;
    int fd = req_lo(&r);
    CHECK_OK(fd);
    CHECK_OK(ioctl(fd, SIOCGIFADDR, &r));
    struct sockaddr_in *a = (struct sockaddr_in *)&r.ifr_addr;
    CHECK_EQ(a->sin_family, AF_INET);
    CHECK_EQ(ntohl(a->sin_addr.s_addr), INADDR_LOOPBACK);
    CHECK_OK(ioctl(fd, SIOCGIFNETMASK, &r));
    a = (struct sockaddr_in *)&r.ifr_netmask;
    CHECK_EQ(ntohl(a->sin_addr.s_addr), 0xff000000u);
    close(fd);
}

TEST(ifconf_lists_lo)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_OK(fd);
    struct ifconf c = {.ifc_len = 0, .ifc_buf = NULL};
    CHECK_OK(ioctl(fd, SIOCGIFCONF, &c));
    CHECK(c.ifc_len >= (int)sizeof(struct ifreq));
    CHECK_EQ(c.ifc_len % sizeof(struct ifreq), 0);
    struct ifreq reqs[64];
    c.ifc_len = sizeof reqs;
    c.ifc_req = reqs;
    CHECK_OK(ioctl(fd, SIOCGIFCONF, &c));
    int lo = 0;
    for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++) {
        struct sockaddr_in *a = (struct sockaddr_in *)&reqs[i].ifr_addr;
        if (strcmp(reqs[i].ifr_name, "lo") == 0 && ntohl(a->sin_addr.s_addr) == INADDR_LOOPBACK)
            lo = 1;
    }
    CHECK(lo);
    /* Room for one entry: one entry. */
    c.ifc_len = sizeof(struct ifreq);
    CHECK_OK(ioctl(fd, SIOCGIFCONF, &c));
    CHECK_EQ(c.ifc_len, sizeof(struct ifreq));
    close(fd);
}

TEST(changes_need_privilege)
{
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(2);
        struct ifreq r;
        int fd = req_lo(&r);
        r.ifr_mtu = 1500;
        if (ioctl(fd, SIOCSIFMTU, &r) != -1 || errno != EPERM)
            _exit(3);
        strcpy(r.ifr_name, "lo");
        r.ifr_flags = IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &r) != -1 || errno != EPERM)
            _exit(4);
        _exit(0);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

TEST(proc_net_dev_lists_lo)
{
    int fd = open("/proc/net/dev", O_RDONLY);
    CHECK_OK(fd);
    static char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK(n > 0);
    buf[n] = 0;
    CHECK(strncmp(buf, "Inter-|   Receive", 17) == 0);
    CHECK(strstr(buf, "\n    lo:") != NULL);
    close(fd);
}

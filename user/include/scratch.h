/* scratch.h - scratch directories for test cases that make files (include after test.h):
 *     newdir()        a fresh empty directory for one case ("<root>/cN", mode 0755 under the
 *                     umask), under one mkdtemp("/tmp/ptest.XXXXXX") root that the process
 *                     which made it removes at exit; NULL on failure. The last 4 stay valid.
 *     P(dir, name)    "dir/name" in one of 16 rotating buffers.
 * Define SCRATCH_ALL_USERS before including to chmod the root and every case directory to
 * 0755 whatever the umask, so unprivileged (setuid) children can reach them.
 */
#ifndef POSIX_X_SCRATCH_H
#define POSIX_X_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch_root_[64];
static pid_t scratch_owner_;
static int scratch_n_;

static int rm_cb_(const char *p, const struct stat *s, int flag, struct FTW *f)
{
    (void)s, (void)flag, (void)f;
    return remove(p);
}

static void scratch_cleanup_(void)
{
    if (scratch_root_[0] && getpid() == scratch_owner_)
        nftw(scratch_root_, rm_cb_, 16, FTW_DEPTH | FTW_PHYS);
}

__attribute__((unused)) static const char *newdir(void)
{
    static char bufs[4][128];
    if (!scratch_root_[0]) {
        strcpy(scratch_root_, "/tmp/ptest.XXXXXX");
        if (!mkdtemp(scratch_root_)) {
            scratch_root_[0] = '\0';
            return NULL;
        }
        scratch_owner_ = getpid();
        atexit(scratch_cleanup_);
#ifdef SCRATCH_ALL_USERS
        if (chmod(scratch_root_, 0755) != 0)
            return NULL;
#endif
    }
    char *b = bufs[scratch_n_ % 4];
    snprintf(b, sizeof bufs[0], "%s/c%d", scratch_root_, scratch_n_);
    scratch_n_++;
#ifdef SCRATCH_ALL_USERS
    if (mkdir(b, 0755) != 0 || chmod(b, 0755) != 0)
        return NULL;
    return b;
#else
    return mkdir(b, 0755) == 0 ? b : NULL;
#endif
}

__attribute__((unused)) static const char *P(const char *dir, const char *name)
{
    static char bufs[16][1024];
    static int n;
    char *b = bufs[n++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

#endif /* POSIX_X_SCRATCH_H */

/* Shell pipelines over pipes and FIFOs, as a person types them: the shell (busybox sh on
 * POSIX-X, the system's sh on Linux) connects the processes; we check what comes out. */
#define TEST_MAIN
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs `cmd` with sh -c and returns its whole stdout (static buffer), or NULL. */
static const char *run(const char *cmd, int *status)
{
    static char out[4096];
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    *status = pclose(p);
    return out;
}

TEST(seq_sort_head)
{
    int st;
    const char *out = run("seq 1 100000 | sort -rn | head -1", &st);
    CHECK(out != NULL);
    CHECK(strcmp(out, "100000\n") == 0);
}

TEST(yes_head_ends_yes_with_sigpipe)
{
    int st;
    const char *out = run("yes | head -n 3", &st);
    CHECK(out != NULL);
    CHECK(strcmp(out, "y\ny\ny\n") == 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(proc_meminfo_grep_wc)
{
    int st;
    const char *out = run("cat /proc/meminfo | grep MemFree | wc -l", &st);
    CHECK(out != NULL);
    CHECK_EQ(atoi(out), 1);
}

TEST(fifo_between_two_background_jobs)
{
    int st;
    /* Both jobs run in the background; `wait` waits for the two of them. */
    const char *out = run("d=$(mktemp -d /tmp/ptest.XXXXXX); mkfifo $d/f; "
                          "printf 'through the fifo\\n' > $d/f & "
                          "cat $d/f > $d/out & "
                          "wait; cat $d/out; rm -r $d",
                          &st);
    CHECK(out != NULL);
    CHECK(strcmp(out, "through the fifo\n") == 0);
}

TEST(long_pipeline_counts_lines)
{
    int st;
    const char *out = run("seq 1 5000 | grep 7 | sort | uniq | wc -l", &st);
    CHECK(out != NULL);
    /* Of 1..5000, 3645 have no digit 7 (5*9*9*9 four-digit strings 0000..4999, less 0000,
     * plus 5000), so 1355 have one. */
    CHECK_EQ(atoi(out), 1355);
}

TEST(exit_status_of_a_pipeline_is_the_last_command)
{
    int st;
    const char *out = run("true | false", &st);
    CHECK(out != NULL);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    out = run("false | true", &st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

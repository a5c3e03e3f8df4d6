// a3c-engine-launcher: ties a ViZDoom engine's life to its owner's, and cleans up after it.
//
// The ViZDoom client library starts the engine executable from one of its threads and talks to it
// over POSIX shared memory and message queues (/dev/shm/ViZDoomSM<id>, ViZDoomMQCtr<id>,
// ViZDoomMQDoom<id>, where <id> follows `+viz_instance_id` on the command line). The engine has no
// watchdog on its owner: if the owning process is SIGKILLed, the engine runs on as an orphan,
// ignores SIGTERM, and its segments stay in /dev/shm. swift-a3c therefore points the client's
// `setViZDoomPath` at this launcher instead of the engine. The launcher
//
//   1. asks the kernel to send it SIGTERM when the thread that spawned it exits
//      (PR_SET_PDEATHSIG; the client spawns from a thread that lives exactly as long as the engine,
//      and if the whole owner process dies, that thread dies with it),
//   2. moves into its own process group, so that a Ctrl-C on the terminal reaches only the owner,
//      which then closes its games in order,
//   3. forks the real engine (`../vizdoom/vizdoom` next to this file) with PR_SET_PDEATHSIG=SIGKILL,
//      so the engine cannot outlive the launcher even if the launcher itself is SIGKILLed,
//   4. runs the engine in a private scratch directory, because it writes `_vizdoom.ini` and a
//      `_vizdoom/` folder into its working directory, which would otherwise be the user's,
//   5. when the engine exits, or when the owner dies (SIGTERM/SIGINT/SIGHUP), kills the engine with
//      SIGKILL if needed, reaps it, unlinks its three segments, removes the scratch directory, and
//      exits with the engine's status. Only a SIGKILL of the launcher itself skips this; the engine
//      then dies with it (3.), and the next game the owner's program creates removes the segments
//      and the directory that no engine uses any more (EngineHygiene).
//
// Normal operation is unchanged: the client's close() asks the engine to quit, the engine exits,
// the launcher reaps it and exits, and the client's thread sees its child end.
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int removeEntry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void unlinkSegments(const char *instanceId) {
    static const char *const prefixes[] = {"ViZDoomSM", "ViZDoomMQCtr", "ViZDoomMQDoom"};
    char path[PATH_MAX];
    if (instanceId == NULL) return;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; ++i) {
        snprintf(path, sizeof path, "/dev/shm/%s%s", prefixes[i], instanceId);
        unlink(path);
    }
}

int main(int argc, char **argv) {
    // The signals that end the launcher are blocked from the start and only ever taken by sigwait
    // below, so that one arriving while the scratch directory is being made (the owner dying as it
    // starts an engine) is handled by the loop, which cleans up, instead of killing the launcher
    // and leaving the directory. Whatever the spawning thread blocked or ignored is inherited
    // across exec; start clean.
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigset_t watched, unblocked;
    sigemptyset(&unblocked);
    sigemptyset(&watched);
    sigaddset(&watched, SIGTERM);
    sigaddset(&watched, SIGINT);
    sigaddset(&watched, SIGHUP);
    sigaddset(&watched, SIGCHLD);
    sigprocmask(SIG_BLOCK, &watched, NULL);

    // Parent watch next: if the owner already died before prctl took effect, stop now.
    pid_t owner = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != owner) return 1;
    setpgid(0, 0);

    // The real engine lives at <this dir>/../vizdoom/vizdoom.
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0) { perror("a3c-engine-launcher: readlink /proc/self/exe"); return 127; }
    self[length] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    char engine[PATH_MAX + 32];
    snprintf(engine, sizeof engine, "%s/../vizdoom/vizdoom", self);

    const char *instanceId = NULL;
    for (int i = 1; i + 1 < argc; ++i)
        if (strcmp(argv[i], "+viz_instance_id") == 0) instanceId = argv[i + 1];

    char scratch[] = "/tmp/a3c-engine-XXXXXX";
    if (mkdtemp(scratch) == NULL) { perror("a3c-engine-launcher: mkdtemp"); return 127; }

    pid_t launcher = getpid();
    pid_t child = fork();
    if (child < 0) { perror("a3c-engine-launcher: fork"); rmdir(scratch); return 127; }
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != launcher) _exit(1);
        sigprocmask(SIG_SETMASK, &unblocked, NULL);
        if (chdir(scratch) != 0) _exit(127);
        argv[0] = engine;
        execv(engine, argv);
        fprintf(stderr, "a3c-engine-launcher: cannot run %s: %s; run scripts/bootstrap\n", engine, strerror(errno));
        _exit(127);
    }

    int status = 0;
    int exitCode = 0;
    for (;;) {
        int signal = 0;
        if (sigwait(&watched, &signal) != 0) continue;
        if (signal == SIGCHLD) {
            pid_t done = waitpid(child, &status, WNOHANG);
            if (done == child) {
                exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                break;
            }
            continue;
        }
        // The owner is gone (or someone asked us to stop): the engine goes with it.
        kill(child, SIGKILL);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        exitCode = 128 + signal;
        break;
    }

    unlinkSegments(instanceId);
    nftw(scratch, removeEntry, 16, FTW_DEPTH | FTW_PHYS);
    return exitCode;
}

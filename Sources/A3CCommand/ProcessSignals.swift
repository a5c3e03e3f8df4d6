import Foundation

/// Restores the default disposition of the termination signals and unblocks them.
///
/// A process inherits blocked and ignored signals from whatever started it (some test runners and
/// process supervisors spawn children with SIGTERM blocked); `a3c` must still stop when asked.
func resetTerminationSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
        signal(signalNumber, SIG_DFL)
        sigaddset(&set, signalNumber)
    }
    sigprocmask(SIG_UNBLOCK, &set, nil)
}

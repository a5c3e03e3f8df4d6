import Foundation
import ThreadSafety

/// Restores the default disposition of the termination signals and unblocks them.
///
/// A process inherits blocked and ignored signals from whatever started it (some test runners and
/// process supervisors spawn children with SIGTERM blocked); `a3c` must still stop when asked.
/// An ignored SIGHUP stays ignored: that is `nohup`'s request, to outlive the terminal.
func resetTerminationSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
        let previous = signal(signalNumber, SIG_DFL)
        if signalNumber == SIGHUP && isIgnoreHandler(previous) { signal(SIGHUP, SIG_IGN) }
        sigaddset(&set, signalNumber)
    }
    sigprocmask(SIG_UNBLOCK, &set, nil)
}

/// Whether SIGHUP is ignored now (under `nohup`, after `resetTerminationSignals()`).
func hangupIsIgnored() -> Bool {
    let current = signal(SIGHUP, SIG_IGN)
    signal(SIGHUP, current)
    return isIgnoreHandler(current)
}

private func isIgnoreHandler(_ handler: __sighandler_t?) -> Bool {
    guard let handler else { return false }
    return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
}

/// SIGINT/SIGTERM/SIGHUP handling: the first asks the command to stop (the trainer: checkpoint, close
/// engines); a second exits at once (the engine launchers still take every engine and segment with them).
/// SIGHUP (the terminal closed) is handled only when it is not ignored (see `resetTerminationSignals`).
final class TerminationSignals: @unchecked Sendable {
    /// The first signal received, 0 before any.
    private let received = LockedValue<Int32>(0)
    private var sources: [DispatchSourceSignal] = []  // written only in init
    /// What the first signal does, said on stderr when it arrives.
    private let stopping: String

    init(stopping: String = "saving a final checkpoint and closing the engines") {
        self.stopping = stopping
        for signalNumber in [SIGINT, SIGTERM] + (hangupIsIgnored() ? [] : [SIGHUP]) {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.receive(signalNumber) }
            source.resume()
            sources.append(source)
        }
    }

    private func receive(_ signalNumber: Int32) {
        let first = received.withLockedValue { received -> Bool in
            guard received == 0 else { return false }
            received = signalNumber
            return true
        }
        if first {
            // fputs, not FileHandle.write, which traps on an error (EIO once the terminal has hung up).
            fputs("\nstopping: \(stopping) (press Ctrl-C again to exit at once)\n", stderr)
        } else {
            _exit(128 + signalNumber)
        }
    }

    var requested: Bool { received.withLockedValue { $0 != 0 } }
    /// The conventional status for the signal that stopped us: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
    var exitStatus: Int32 { received.withLockedValue { 128 + $0 } }
}

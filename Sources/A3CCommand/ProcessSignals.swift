import Foundation
import ThreadSafety

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

/// SIGINT/SIGTERM handling: the first asks the trainer to stop (checkpoint, close engines);
/// a second exits at once (the engine launchers still take every engine and segment with them).
final class TerminationSignals: @unchecked Sendable {
    /// The first signal received, 0 before any.
    private let received = LockedValue<Int32>(0)
    private var sources: [DispatchSourceSignal] = []  // written only in init

    init() {
        for signalNumber in [SIGINT, SIGTERM] {
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
            FileHandle.standardError.write(Data("\nstopping: saving a final checkpoint and closing the engines (press Ctrl-C again to exit at once)\n".utf8))
        } else {
            _exit(128 + signalNumber)
        }
    }

    var requested: Bool { received.withLockedValue { $0 != 0 } }
    /// The conventional status for the signal that stopped us: 130 for SIGINT, 143 for SIGTERM.
    var exitStatus: Int32 { received.withLockedValue { 128 + $0 } }
}

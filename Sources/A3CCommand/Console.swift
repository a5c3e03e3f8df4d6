import Foundation
import ThreadSafety

/// Progress on one terminal line (rewritten in place), or a line every 10 s when not a terminal.
final class Console: Sendable {
    let quiet: Bool
    private let isTerminal = isatty(STDOUT_FILENO) != 0
    /// When the last plain (non-terminal) progress line was printed, and whether a terminal progress
    /// line is on screen.
    private let state = LockedValue((lastPlain: Date.distantPast, progressShown: false))

    init(quiet: Bool) { self.quiet = quiet }

    func line(_ text: String) {
        state.withLockedValue { state in
            if state.progressShown && isTerminal { print("\r\u{1B}[K", terminator: ""); state.progressShown = false }
            // --quiet keeps the run's landmarks (run directory, resuming, stopping) and drops the
            // per-event notes of workers (engine restarts, skipped updates), which the summary counts.
            if quiet && text.hasPrefix("worker ") { return }
            print(text)
            fflush(stdout)
        }
    }

    func progress(_ text: String) {
        state.withLockedValue { state in
            if isTerminal {
                print("\r\u{1B}[K" + text, terminator: "")
                state.progressShown = true
            } else if Date().timeIntervalSince(state.lastPlain) >= 10 {
                print(text)
                state.lastPlain = Date()
            }
            fflush(stdout)
        }
    }

    func finishProgress() {
        state.withLockedValue { state in
            if state.progressShown { print(""); state.progressShown = false }
        }
    }
}

import Foundation

/// One trainer per run directory: an exclusive `flock` on `<run>/.lock`, held while the trainer
/// lives. Two sessions on one run would lose data silently (the second sets `episodes.csv` aside
/// while the first appends to the unlinked file; it removes the first's checkpoint staging
/// folders as leftovers). The kernel drops the lock when the process ends, however it ends, so
/// a crashed session never blocks the next `--resume`.
final class RunLock {
    static let fileName = ".lock"
    private let descriptor: Int32

    /// Takes the lock of `run`, or throws naming the run and the fix if another process holds it.
    init(run: RunDirectory) throws {
        let path = run.url.appendingPathComponent(Self.fileName).path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrainingError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(descriptor)
            if reason == EWOULDBLOCK {
                throw TrainingError.invalidOption("another a3c process is training \(run.url.path) (it holds \(path)): wait for it to end, or stop it (Ctrl-C) and resume then")
            }
            throw TrainingError.unwritable(path: path, reason: String(cString: strerror(reason)))
        }
    }

    deinit { close(descriptor) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a worker thread's time goes, in seconds of its wall time: the split of a step's cost that
/// `a3c bench train` prints. With one worker per core and every engine stepped from its worker's
/// thread, a worker's wall time is the CPU time of its share of the machine.
public struct WorkerPhases: Codable, Sendable, Equatable {
    /// Engine steps, frame fetch and preprocessing, new episodes (the worker waits on its engines).
    public var engine = 0.0
    /// The batched forward passes of acting (and of the bootstrap values), and sampling actions.
    public var acting = 0.0
    /// Returns, advantages and the backward pass.
    public var learning = 0.0
    /// The global update: clipping, the optimizer's pass under the shared lock (waiting included).
    public var optimizer = 0.0
    /// Copying the global parameters into the worker's network before a rollout.
    public var sync = 0.0
    /// Everything else: episode reports, GIFs, bookkeeping.
    public var other = 0.0

    public init() {}

    /// The sum of all phases.
    public var total: Double { engine + acting + learning + optimizer + sync + other }

    public static func + (a: WorkerPhases, b: WorkerPhases) -> WorkerPhases {
        var sum = a
        sum.engine += b.engine; sum.acting += b.acting; sum.learning += b.learning
        sum.optimizer += b.optimizer; sum.sync += b.sync; sum.other += b.other
        return sum
    }

    public static func - (a: WorkerPhases, b: WorkerPhases) -> WorkerPhases {
        var difference = a
        difference.engine -= b.engine; difference.acting -= b.acting; difference.learning -= b.learning
        difference.optimizer -= b.optimizer; difference.sync -= b.sync; difference.other -= b.other
        return difference
    }
}

/// A monotonic stopwatch read at phase boundaries (about 20 ns a read: a few per step).
struct PhaseClock {
    private var last = PhaseClock.now()

    /// Seconds since the previous lap (or the clock's creation).
    mutating func lap() -> Double {
        let now = PhaseClock.now()
        defer { last = now }
        return now - last
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

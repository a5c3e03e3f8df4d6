import Foundation

/// The check behind `a3c mpi-check`, run by every rank of one mpirun:
///
/// 1. every rank sends rank 0 its host name, pid and MPI start-up time;
/// 2. rank 0 times round trips of a parameter-sized Float buffer to each other rank in turn
///    (rank 0 sends, the rank echoes it back at once, rank 0 compares the echo with what it sent),
///    first with MPI's blocking calls, then as distributed training moves its buffers: both sides
///    sleeping between polls (`MPIRequest.wait(pollInterval:)` at `polledInterval`);
/// 3. all ranks at once exchange as distributed A3C will: each rank sends a gradient-sized buffer,
///    rank 0 receives from any rank and answers that rank with a parameter-sized buffer (the
///    other ranks post that receive before sending, with `startReceive`);
/// 4. every rank sends rank 0 its verdict.
///
/// Every message carries a stamp (kind, sender, receiver, sequence number) in its first floats and a
/// fixed pseudo-random pattern in the rest; phase 3's messages are compared byte for byte where they
/// arrive, phase 2's echoes where they return.
public enum MPICheck {
    /// What one rank told rank 0 about itself.
    public struct Rank: Sendable {
        public let rank: Int
        public let host: String
        public let pid: Int
        /// Seconds spent in `MPIWorld()` (MPI_Init_thread and the world's queries).
        public let initSeconds: Double
    }

    /// Round trips between rank 0 and one rank.
    public struct RoundTrips: Sendable {
        public let rank: Int
        /// Each round trip, in seconds (send of the buffer to the rank and receipt of its echo).
        public let seconds: [Double]
        /// The same with both sides sleeping between polls, as distributed training waits.
        public let polledSeconds: [Double]
        public var median: Double { Self.median(seconds) }
        public var best: Double { seconds.min() ?? .nan }
        public var polledMedian: Double { Self.median(polledSeconds) }

        private static func median(_ seconds: [Double]) -> Double {
            seconds.isEmpty ? .nan : seconds.sorted()[seconds.count / 2]
        }
    }

    /// The longest sleep between polls in phase 2's polled round trips, 0.2 ms. Distributed
    /// training waits on its transfers with this one (`DistributedTraining.transferPollInterval`),
    /// so `a3c mpi-check` measures what training pays.
    public static let polledInterval = 0.000_2

    /// Everything rank 0 learned. Other ranks get nil from `run`.
    public struct Report: Sendable {
        public let ranks: [Rank]
        public let bytesPerMessage: Int
        public let roundTrips: [RoundTrips]
        /// Phase 3: exchanges served by rank 0, and the seconds they took in all.
        public let exchanges: Int
        public let exchangeSeconds: Double
        /// Every corrupted, missing or mis-sized message, on any rank; empty if all arrived intact.
        public let failures: [String]
        public var passed: Bool { failures.isEmpty }
    }

    private enum Tag {
        static let hello = 1, payload = 2, gradients = 3, parameters = 4, verdict = 5, hold = 6, done = 7
    }

    /// Runs phases 1 to 4 on `world`; the report on rank 0, nil elsewhere. Throws on an MPI failure
    /// (the caller should then `abort`, which ends every rank).
    public static func run(world: MPIWorld, floats: Int, roundTrips: Int, initSeconds: Double) throws -> Report? {
        precondition(floats >= _Payload.stampCount, "an mpi-check message holds at least \(_Payload.stampCount) floats")
        let payload = _Payload(count: floats)
        defer { payload.deallocate() }
        var failures: [String] = []

        // 1. Who is where.
        let hello = "\(world.hostName)\t\(getpid())\t\(initSeconds)"
        var ranks = [Rank(rank: 0, host: world.hostName, pid: Int(getpid()), initSeconds: initSeconds)]
        if world.rank == 0 {
            for _ in 1..<max(world.size, 1) {
                let (message, bytes) = try world.receiveBytes(tag: Tag.hello)
                let fields = String(decoding: bytes, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false)
                guard fields.count == 3, let pid = Int(fields[1]), let seconds = Double(fields[2]) else {
                    failures.append("rank \(message.source) sent a malformed hello: \(String(decoding: bytes, as: UTF8.self))")
                    continue
                }
                ranks.append(Rank(rank: message.source, host: String(fields[0]), pid: pid, initSeconds: seconds))
            }
            ranks.sort { $0.rank < $1.rank }
        } else {
            try world.send(bytes: Array(hello.utf8), to: 0, tag: Tag.hello)
        }

        // 2. Round trips, one rank at a time.
        var trips: [RoundTrips] = []
        if world.rank == 0 {
            for peer in 1..<max(world.size, 1) {
                var seconds: [Double] = [], polledSeconds: [Double] = []
                for sequence in 0..<(2 * roundTrips) {
                    let polled = sequence >= roundTrips
                    payload.stamp(payload.sent, kind: Tag.payload, from: 0, to: peer, sequence: sequence)
                    let start = DispatchTime.now().uptimeNanoseconds
                    let echo: MPIMessage
                    if polled {
                        try world.send(floats: UnsafeBufferPointer(payload.sent), to: peer, tag: Tag.payload, pollInterval: polledInterval)
                        echo = try world.receive(floats: payload.received, from: peer, tag: Tag.payload, pollInterval: polledInterval)
                    } else {
                        try world.send(floats: UnsafeBufferPointer(payload.sent), to: peer, tag: Tag.payload)
                        echo = try world.receive(floats: payload.received, from: peer, tag: Tag.payload)
                    }
                    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    if polled { polledSeconds.append(elapsed) } else { seconds.append(elapsed) }
                    if echo.byteCount != payload.byteCount || memcmp(payload.sent.baseAddress!, payload.received.baseAddress!, payload.byteCount) != 0 {
                        failures.append("round trip \(sequence) with rank \(peer)\(polled ? " (polled)" : ""): the echo differs from what rank 0 sent (\(echo.byteCount) of \(payload.byteCount) bytes came back)")
                    }
                }
                trips.append(RoundTrips(rank: peer, seconds: seconds, polledSeconds: polledSeconds))
            }
        } else {
            // Only the stamp is checked here, before the echo: any work between receive and echo
            // would count in rank 0's timing (MPI moves data only inside MPI calls). Rank 0 compares
            // the whole echo with what it sent, which covers both directions.
            for sequence in 0..<(2 * roundTrips) {
                let echo = { (message: MPIMessage) in UnsafeRawBufferPointer(start: payload.received.baseAddress, count: message.byteCount) }
                let message: MPIMessage
                if sequence >= roundTrips {
                    message = try world.receive(floats: payload.received, from: 0, tag: Tag.payload, pollInterval: polledInterval)
                    try world.send(bytes: echo(message), to: 0, tag: Tag.payload, pollInterval: polledInterval)
                } else {
                    message = try world.receive(floats: payload.received, from: 0, tag: Tag.payload)
                    try world.send(bytes: echo(message), to: 0, tag: Tag.payload)
                }
                if let problem = payload.verify(payload.received, byteCount: message.byteCount, kind: Tag.payload,
                                                from: 0, to: world.rank, sequence: sequence, stampOnly: true) {
                    failures.append("round trip \(sequence) from rank 0: \(problem)")
                }
            }
        }

        // 3. Everybody at once: gradients up, parameters down.
        var exchangeSeconds = 0.0
        if world.rank == 0 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<(roundTrips * (world.size - 1)) {
                let message = try world.receive(floats: payload.received, tag: Tag.gradients)
                if let problem = payload.verify(payload.received, byteCount: message.byteCount, kind: Tag.gradients,
                                                from: message.source, to: 0, sequence: nil) {
                    failures.append("gradients from rank \(message.source): \(problem)")
                }
                let sequence = payload.sequence(of: payload.received)
                payload.stamp(payload.sent, kind: Tag.parameters, from: 0, to: message.source, sequence: sequence)
                try world.send(floats: UnsafeBufferPointer(payload.sent), to: message.source, tag: Tag.parameters)
            }
            exchangeSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } else {
            for sequence in 0..<roundTrips {
                let parameters = try world.startReceive(floats: payload.received, from: 0, tag: Tag.parameters)
                payload.stamp(payload.sent, kind: Tag.gradients, from: world.rank, to: 0, sequence: sequence)
                let gradients = try world.startSend(floats: UnsafeBufferPointer(payload.sent), to: 0, tag: Tag.gradients)
                try gradients.wait()
                let message = try parameters.wait()
                if let problem = payload.verify(payload.received, byteCount: message.byteCount, kind: Tag.parameters,
                                                from: 0, to: world.rank, sequence: sequence) {
                    failures.append("parameters \(sequence) from rank 0: \(problem)")
                }
            }
        }

        // 4. Verdicts.
        if world.rank == 0 {
            for _ in 1..<max(world.size, 1) {
                let (message, bytes) = try world.receiveBytes(tag: Tag.verdict)
                if !bytes.isEmpty {
                    failures += String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { "rank \(message.source): \($0)" }
                }
            }
            return Report(ranks: ranks, bytesPerMessage: payload.byteCount, roundTrips: trips,
                          exchanges: roundTrips * (world.size - 1), exchangeSeconds: exchangeSeconds, failures: failures)
        }
        try world.send(bytes: Array(failures.joined(separator: "\n").utf8), to: 0, tag: Tag.verdict)
        return nil
    }

    /// Keeps rank 0 exchanging buffers with every other rank for `seconds` (echo round trips, as in
    /// phase 2), so that a test can kill a rank while the others are in the middle of transfers.
    public static func hold(world: MPIWorld, floats: Int, seconds: Double) throws {
        let payload = _Payload(count: floats)
        defer { payload.deallocate() }
        if world.rank == 0 {
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
            while DispatchTime.now().uptimeNanoseconds < deadline {
                for peer in 1..<max(world.size, 1) {
                    try world.send(floats: UnsafeBufferPointer(payload.sent), to: peer, tag: Tag.hold)
                    _ = try world.receive(floats: payload.received, from: peer, tag: Tag.hold)
                }
                if world.size == 1 { usleep(10_000) }
            }
            for peer in 1..<max(world.size, 1) { try world.send(bytes: [], to: peer, tag: Tag.done) }
        } else {
            // Ranks other than 0 wait most of the time: waiting without spinning leaves the cores to rank 0.
            while try world.probe(from: 0, pollInterval: 0.0002).tag == Tag.hold {
                let message = try world.receive(floats: payload.received, from: 0, tag: Tag.hold)
                try world.send(bytes: UnsafeRawBufferPointer(start: payload.received.baseAddress, count: message.byteCount),
                               to: 0, tag: Tag.hold)
            }
            _ = try world.receive(into: UnsafeMutableRawBufferPointer(payload.received), from: 0, tag: Tag.done)
        }
    }
}

/// The buffers of the check and the layout of its messages: floats 0..<4 are a stamp (kind, sender,
/// receiver, sequence number, each an Int32's bits), the rest a pattern that depends on the index.
struct _Payload {
    static let stampCount = 4
    let sent: UnsafeMutableBufferPointer<Float>
    let received: UnsafeMutableBufferPointer<Float>
    /// The pattern every message carries after its stamp.
    private let reference: UnsafeMutableBufferPointer<Float>
    var byteCount: Int { sent.count * MemoryLayout<Float>.stride }

    init(count: Int) {
        sent = .allocate(capacity: count)
        received = .allocate(capacity: count)
        reference = .allocate(capacity: count)
        received.initialize(repeating: 0)
        for index in 0..<count {
            // A multiplicative hash of the index: every float differs from its neighbours, and a
            // shifted, truncated or stale buffer differs from the reference almost everywhere.
            var bits = UInt32(truncatingIfNeeded: index) &* 0x9E37_79B1
            bits ^= bits >> 15
            bits = bits &* 0x85EB_CA77
            reference[index] = Float(bitPattern: bits)
        }
        _ = sent.initialize(from: reference)
    }

    func deallocate() {
        sent.deallocate()
        received.deallocate()
        reference.deallocate()
    }

    func stamp(_ buffer: UnsafeMutableBufferPointer<Float>, kind: Int, from: Int, to: Int, sequence: Int) {
        for (index, value) in [kind, from, to, sequence].enumerated() {
            buffer[index] = Float(bitPattern: UInt32(truncatingIfNeeded: value))
        }
    }

    func sequence(of buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        Int(Int32(bitPattern: buffer[3].bitPattern))
    }

    /// Nil if `buffer` holds a whole message with this stamp (any sequence number if `sequence` is
    /// nil) and the reference pattern (unless `stampOnly`); else what is wrong.
    func verify(_ buffer: UnsafeMutableBufferPointer<Float>, byteCount: Int, kind: Int, from: Int, to: Int, sequence: Int?,
                stampOnly: Bool = false) -> String? {
        guard byteCount == self.byteCount else { return "\(byteCount) bytes arrived, expected \(self.byteCount)" }
        let stamp = (0..<Self.stampCount).map { Int(Int32(bitPattern: buffer[$0].bitPattern)) }
        let expected = [kind, from, to, sequence ?? stamp[3]]
        guard stamp == expected else { return "stamp (kind, from, to, sequence) is \(stamp), expected \(expected)" }
        if stampOnly { return nil }
        let body = (sent.count - Self.stampCount) * MemoryLayout<Float>.stride
        if memcmp(buffer.baseAddress! + Self.stampCount, reference.baseAddress! + Self.stampCount, body) == 0 { return nil }
        let first = (Self.stampCount..<sent.count).first { buffer[$0].bitPattern != reference[$0].bitPattern }!
        let wrong = (Self.stampCount..<sent.count).filter { buffer[$0].bitPattern != reference[$0].bitPattern }.count
        return "\(wrong) of \(sent.count) floats differ, the first at index \(first)"
    }
}

import Foundation
import TelemetryTestSupport
import Testing
@testable import Telemetry

@Suite("TensorBoard event files")
struct TensorBoardTests {
    /// The tags the trainer logs every few episodes.
    static let trainerTags = ["Perf/Reward", "Perf/Length", "Perf/Value", "Losses/Value Loss",
                              "Losses/Policy Loss", "Losses/Entropy", "Losses/Grad Norm", "Losses/Var Norm",
                              "charts/SPS"]

    @Test("the first record is exactly TensorFlow's file-version event")
    func firstRecordBytes() throws {
        try withTemporaryDirectory { directory in
            let writer = try TensorBoardWriter(logDirectory: directory, wallTime: 1_700_000_000.25)
            try writer.close()
            #expect(writer.url.lastPathComponent.hasPrefix("events.out.tfevents.1700000000."))
            let bytes = try fileBytes(writer.url)
            // Event{wall_time (field 1, fixed64) = 1700000000.25, file_version (field 3) = "brain.Event:2"}
            var payload: [UInt8] = [0x09]
            withUnsafeBytes(of: (1_700_000_000.25 as Double).bitPattern.littleEndian) { payload += $0 }
            payload += [0x1A, 13] + Array("brain.Event:2".utf8)
            var expected: [UInt8] = []
            withUnsafeBytes(of: UInt64(payload.count).littleEndian) { expected += $0 }
            withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(expected)).littleEndian) { expected += $0 }
            expected += payload
            withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(payload)).littleEndian) { expected += $0 }
            #expect(bytes == expected)
        }
    }

    @Test("scalars and text round-trip through the reader")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let runDirectory = directory.appendingPathComponent("runs/health__a3c__1__1700000000")
            let writer = try TensorBoardWriter(logDirectory: runDirectory)
            try writer.addHyperparameters([("learning rate", "0.0007"), ("pipe|name", "a\nb")])
            for step in stride(from: 0, to: 50, by: 5) {
                try writer.addScalars(Self.trainerTags.enumerated().map { ($1, Double(step) + Double($0) / 10) },
                                      step: step * 1000)
            }
            try writer.addScalar(tag: "Perf/Reward", value: Float(-1.5), step: 1 << 40, wallTime: 12.5)
            try writer.addText(tag: "notes", text: "résumé ✓", step: 3)
            try writer.close()

            let events = try EventFileReader.events(at: writer.url)
            #expect(events.count == 1 + 1 + 10 + 2)
            #expect(events[0].fileVersion == "brain.Event:2")
            #expect(events[0].scalars.isEmpty && events[0].texts.isEmpty)
            #expect(events[1].texts == [.init(tag: "hyperparameters",
                                              text: "|param|value|\n|-|-|\n|learning rate|0.0007|\n|pipe\\|name|a b|",
                                              pluginName: "text")])
            #expect(events[2].step == 0 && events[2].scalars.map(\.tag) == Self.trainerTags)
            #expect(events[3].scalars[3] == .init(tag: "Losses/Value Loss", value: 5.3))
            let last = events[events.count - 2]
            #expect(last.step == 1 << 40 && last.wallTime == 12.5)
            #expect(events.last?.texts.first?.text == "résumé ✓")

            let values = try EventFileReader.scalars(tag: "Losses/Value Loss", at: writer.url)
            #expect(values.map(\.step) == Array(stride(from: 0, to: 50_000, by: 5000)))
            #expect(values.map(\.value) == stride(from: 0, to: 50, by: 5).map { Float(Double($0) + 0.3) })
            #expect(try EventFileReader.eventFiles(in: runDirectory) == [writer.url])
        }
    }

    @Test("a session start is TensorFlow's SessionLog START event at its step, and reads back")
    func sessionStart() throws {
        try withTemporaryDirectory { directory in
            let writer = try TensorBoardWriter(logDirectory: directory)
            try writer.addSessionStart(step: 5_976, checkpointPath: "ckpt", wallTime: 2)
            try writer.close()
            let events = try EventFileReader.events(at: writer.url)
            #expect(events.count == 2 && events[1].sessionStart == "ckpt" && events[1].step == 5_976)
            // Event{wall_time = 2, step = 5976, session_log (field 6) = {status = START (1), checkpoint_path = "ckpt"}}
            var payload: [UInt8] = [0x09]
            withUnsafeBytes(of: (2 as Double).bitPattern.littleEndian) { payload += $0 }
            payload += [0x10, 0xD8, 0x2E, 0x32, 8, 0x08, 0x01, 0x12, 4] + Array("ckpt".utf8)
            #expect(events[1].serialized() == payload)
        }
    }

    @Test("two writers in the same second get different files")
    func uniqueNames() throws {
        try withTemporaryDirectory { directory in
            let first = try TensorBoardWriter(logDirectory: directory, wallTime: 1000)
            let second = try TensorBoardWriter(logDirectory: directory, wallTime: 1000)
            #expect(first.url != second.url)
            try first.close()
            try second.close()
            #expect(try EventFileReader.eventFiles(in: directory).count == 2)
        }
    }

    @Test("concurrent workers each append whole records")
    func concurrentLogging() throws {
        try withTemporaryDirectory { directory in
            let writer = try TensorBoardWriter(logDirectory: directory, flushPolicy: .buffered)
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                for episode in 0 ..< 200 {
                    try! writer.addScalar(tag: "worker\(worker)/Reward", value: Double(episode), step: episode)
                }
            }
            try writer.close()
            let events = try EventFileReader.events(at: writer.url)
            #expect(events.count == 801)
            for worker in 0 ..< 4 {
                let points = try EventFileReader.scalars(tag: "worker\(worker)/Reward", at: writer.url)
                #expect(points.map(\.step) == (0 ..< 200).map(Int64.init))
            }
        }
    }

    @Test("a flipped byte is reported as a CRC mismatch at its record")
    func corruptRecord() throws {
        try withTemporaryDirectory { directory in
            let writer = try TensorBoardWriter(logDirectory: directory)
            try writer.addScalar(tag: "Perf/Reward", value: 1.0, step: 1)
            try writer.close()
            let original = try fileBytes(writer.url)
            let secondRecord = 16 + Int(original[0])  // first payload is < 256 bytes

            var dataFlipped = original
            dataFlipped[secondRecord + 12 + 3] ^= 0x01
            try writeBytes(dataFlipped, to: writer.url)
            let dataError = #expect(throws: TelemetryError.self) { try EventFileReader.events(at: writer.url) }
            guard case let .corruptRecord(path, offset, reason)? = dataError else {
                Issue.record("expected corruptRecord, got \(String(describing: dataError))")
                return
            }
            #expect(path == writer.url.path && offset == secondRecord && reason.hasPrefix("data CRC mismatch"))
            #expect(dataError!.description.contains(writer.url.path))

            var lengthFlipped = original
            lengthFlipped[secondRecord] ^= 0x40
            try writeBytes(lengthFlipped, to: writer.url)
            let lengthError = #expect(throws: TelemetryError.self) { try EventFileReader.events(at: writer.url) }
            guard case let .corruptRecord(_, _, lengthReason)? = lengthError else {
                Issue.record("expected corruptRecord, got \(String(describing: lengthError))")
                return
            }
            #expect(lengthReason.hasPrefix("length CRC mismatch"))
        }
    }

    @Test("a truncated file is reported, wherever it is cut")
    func truncatedFile() throws {
        try withTemporaryDirectory { directory in
            let writer = try TensorBoardWriter(logDirectory: directory)
            try writer.addScalar(tag: "Losses/Entropy", value: 1.0, step: 1)
            try writer.close()
            let original = try fileBytes(writer.url)
            let secondRecord = 16 + Int(original[0])
            for cut in [1, 4, 11, 12, 20, original.count - secondRecord - 1] {
                try writeBytes(Array(original[..<(secondRecord + cut)]), to: writer.url)
                let error = #expect(throws: TelemetryError.self) { try EventFileReader.events(at: writer.url) }
                guard case let .truncatedRecord(_, offset, needed, available)? = error else {
                    Issue.record("cut \(cut): expected truncatedRecord, got \(String(describing: error))")
                    continue
                }
                #expect(offset == secondRecord && available == cut && needed > available)
            }
        }
    }

    @Test("unwritable directory and writes after close are thrown errors naming the path")
    func writeErrors() throws {
        try withTemporaryDirectory { directory in
            let blocker = directory.appendingPathComponent("not-a-directory")
            try writeBytes([1], to: blocker)
            let error = #expect(throws: TelemetryError.self) {
                try TensorBoardWriter(logDirectory: blocker.appendingPathComponent("run"))
            }
            #expect(error?.description.contains(blocker.path) == true)
            #expect(error?.description.contains("Not a directory") == true)

            let writer = try TensorBoardWriter(logDirectory: directory)
            try writer.close()
            try writer.close()
            #expect(throws: TelemetryError.writerClosed(path: writer.url.path)) {
                try writer.addScalar(tag: "x", value: 1.0, step: 0)
            }
        }
    }

    @Test("buffered events reach the file on flush")
    func flushPolicy() throws {
        try withTemporaryDirectory { directory in
            let writer = try TensorBoardWriter(
                logDirectory: directory, flushPolicy: FlushPolicy(maxBufferedBytes: 1 << 20, maxDelaySeconds: 3600))
            try writer.addScalar(tag: "a", value: 1.0, step: 1)
            #expect(try fileBytes(writer.url).isEmpty)
            try writer.flush(sync: true)
            #expect(try EventFileReader.events(at: writer.url).count == 2)
            try writer.close()
        }
    }
}

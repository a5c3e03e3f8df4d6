import Foundation
import Testing
@testable import Telemetry

@Suite("CSV")
struct CSVTests {
    static let episodeHeader = ["episode", "worker", "reward", "length", "note"]

    @Test("fields are quoted only when RFC 4180 requires it", arguments: [
        ("plain", "plain"),
        ("", ""),
        ("1.5e-3", "1.5e-3"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("cr\r", "\"cr\r\""),
        (" spaced ", " spaced "),
    ])
    func escaping(field: String, expected: String) throws {
        #expect(CSVWriter.escape(field) == expected)
        #expect(try CSVReader.parse(CSVWriter.line([field, "x"])) == [[field, "x"]])
    }

    @Test("a single empty field is written so it is not a blank line")
    func singleEmptyField() throws {
        #expect(CSVWriter.line([""]) == "\"\"\n")
        #expect(try CSVReader.parse("\"\"\n") == [[""]])
    }

    @Test("the reader accepts CRLF and LF, a missing final line break, and rejects broken quoting")
    func reader() throws {
        #expect(try CSVReader.parse("a,b\r\n1,\"x\r\ny\"\r\n2,3") == [["a", "b"], ["1", "x\r\ny"], ["2", "3"]])
        #expect(try CSVReader.parse("") == [])
        #expect(try CSVReader.parse("a,,\n") == [["a", "", ""]])
        #expect(throws: TelemetryError.self) { try CSVReader.parse("a,\"unclosed\n") }
        #expect(throws: TelemetryError.self) { try CSVReader.parse("a,b\"c\n") }
        #expect(throws: TelemetryError.self) { try CSVReader.parse("\"a\"b\n") }
    }

    @Test("header is written once, and a resumed run appends under it")
    func resume() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("episodes.csv")
            let first = try CSVWriter(url: url, header: Self.episodeHeader)
            try first.append(row: ["1", "0", "-3.5", "120", "first, with comma"])
            try first.close()

            let resumed = try CSVWriter(url: url, header: Self.episodeHeader)
            try resumed.append(row: ["2", "1", "10", "300", "quote \" and\nnewline"])
            try resumed.close()

            #expect(try CSVReader.read(url) == [Self.episodeHeader,
                                                ["1", "0", "-3.5", "120", "first, with comma"],
                                                ["2", "1", "10", "300", "quote \" and\nnewline"]])
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.hasPrefix("episode,worker,reward,length,note\n1,0,-3.5,120,\"first, with comma\"\n"))
        }
    }

    @Test("an empty existing file gets the header; a torn last row is closed off")
    func emptyAndTornFiles() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("episodes.csv")
            try writeBytes([], to: url)
            let writer = try CSVWriter(url: url, header: ["a", "b"])
            try writer.append(row: ["1", "2"])
            try writer.close()
            #expect(try CSVReader.read(url) == [["a", "b"], ["1", "2"]])

            try writeBytes(Array("a,b\n1,2\n3,".utf8), to: url)  // a run killed mid-row
            let resumed = try CSVWriter(url: url, header: ["a", "b"])
            try resumed.append(row: ["5", "6"])
            try resumed.close()
            #expect(try CSVReader.read(url) == [["a", "b"], ["1", "2"], ["3", ""], ["5", "6"]])
        }
    }

    @Test("a file with another header is refused with both headers in the message")
    func headerMismatch() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("episodes.csv")
            try writeBytes(Array("episode,score\n1,2\n".utf8), to: url)
            let error = #expect(throws: TelemetryError.self) { try CSVWriter(url: url, header: Self.episodeHeader) }
            #expect(error == .csvHeaderMismatch(path: url.path, expected: Self.episodeHeader, found: ["episode", "score"]))
            #expect(error?.description.contains("episodes.csv") == true)
            #expect(try String(contentsOf: url, encoding: .utf8) == "episode,score\n1,2\n")
        }
    }

    @Test("a header longer than one read chunk is still recognized")
    func longHeader() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("wide.csv")
            let header = (0 ..< 1000).map { "column number \($0), quoted" }
            try CSVWriter(url: url, header: header).close()
            let reopened = try CSVWriter(url: url, header: header)
            try reopened.append(row: header.map { _ in "v" })
            try reopened.close()
            #expect(try CSVReader.read(url).count == 2)
        }
    }

    @Test("concurrent appends keep every row whole")
    func concurrentAppends() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("episodes.csv")
            let writer = try CSVWriter(url: url, header: Self.episodeHeader, flushPolicy: .buffered)
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                for episode in 0 ..< 100 {
                    try! writer.append(row: ["\(episode)", "\(worker)", "1.0", "10", "w\(worker),e\(episode)"])
                }
            }
            try writer.close()
            let rows = try CSVReader.read(url)
            #expect(rows.count == 401)
            #expect(rows.dropFirst().allSatisfy { $0[4] == "w\($0[1]),e\($0[0])" })
        }
    }
}

@Suite("AtomicFile")
struct AtomicFileTests {
    @Test("replaces a file whole and leaves no temporary file")
    func replace() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("config.json")
            try AtomicFile.write(data: Data("old".utf8), to: url)
            try AtomicFile.write(bytes: Array("new contents".utf8), to: url)
            #expect(try String(contentsOf: url, encoding: .utf8) == "new contents")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["config.json"])
        }
    }

    @Test("a missing directory is an error naming the path and the fix")
    func missingDirectory() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("missing/config.json")
            let error = #expect(throws: TelemetryError.self) { try AtomicFile.write(data: Data(), to: url) }
            #expect(error?.description.contains(directory.appendingPathComponent("missing").path) == true)
            #expect(error?.description.contains("Create the parent directory") == true)
        }
    }
}

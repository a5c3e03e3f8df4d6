import Foundation
import Testing
@testable import Telemetry

/// An RGB picture read from a binary PPM (netpbm's P6: a text header, then 3 bytes a pixel).
struct RGBImage {
    let width: Int
    let height: Int
    let pixels: [UInt8]  // (height, width, 3), row-major

    init(ppm bytes: [UInt8]) throws {
        var position = 0
        func token() throws -> String {
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "#") {  // a comment runs to the end of the line
                    while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
                } else if [9, 10, 13, 32].contains(bytes[position]) {
                    position += 1
                } else {
                    break
                }
            }
            let start = position
            while position < bytes.count && ![9, 10, 13, 32].contains(bytes[position]) { position += 1 }
            guard position > start else { throw TestFailure("PPM header ends early") }
            return String(decoding: bytes[start ..< position], as: UTF8.self)
        }
        guard try token() == "P6" else { throw TestFailure("not a binary RGB PPM (P6)") }
        guard let width = Int(try token()), let height = Int(try token()), try token() == "255" else {
            throw TestFailure("PPM header is not 'P6 width height 255'")
        }
        position += 1  // the one whitespace byte before the raster
        guard bytes.count - position == width * height * 3 else {
            throw TestFailure("PPM raster has \(bytes.count - position) bytes, expected \(width * height * 3)")
        }
        self.width = width
        self.height = height
        self.pixels = Array(bytes[position...])
    }

    func pixel(_ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int) {
        let offset = (y * width + x) * 3
        return (Int(pixels[offset]), Int(pixels[offset + 1]), Int(pixels[offset + 2]))
    }

    /// The pixels whose colour is within `tolerance` of `hex` (#rrggbb) in every channel.
    func pixels(matching hex: String, tolerance: Int = 24) -> [(x: Int, y: Int)] {
        let value = Int(hex.dropFirst(), radix: 16)!
        let (r, g, b) = (value >> 16, (value >> 8) & 0xFF, value & 0xFF)
        var found: [(x: Int, y: Int)] = []
        for y in 0 ..< height {
            for x in 0 ..< width {
                let p = pixel(x, y)
                if abs(p.r - r) <= tolerance && abs(p.g - g) <= tolerance && abs(p.b - b) <= tolerance {
                    found.append((x, y))
                }
            }
        }
        return found
    }
}

/// Runs `tool` (looked up in PATH) with `arguments`, its standard output going to `output`.
func runTool(_ tool: String, _ arguments: [String], output: URL) throws {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    guard let executable = directories.map({ "\($0)/\(tool)" }).first(where: FileManager.default.isExecutableFile) else {
        throw TestFailure("\(tool) is not installed: run scripts/bootstrap (it installs Debian's librsvg2-bin and netpbm)")
    }
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    defer { try? handle.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let message = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        throw TestFailure("\(tool) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(message)")
    }
}

/// Renders SVG text to pixels with real tools: librsvg's `rsvg-convert` (the renderer of GNOME,
/// ImageMagick and Wikipedia) to PNG, netpbm's `pngtopnm` to PPM. No background is added: the
/// white must come from the SVG.
func renderSVG(_ svg: String) throws -> RGBImage {
    try withTemporaryDirectory { directory in
        let svgURL = directory.appendingPathComponent("chart.svg")
        let png = directory.appendingPathComponent("chart.png"), ppm = directory.appendingPathComponent("chart.ppm")
        try Data(svg.utf8).write(to: svgURL)
        let log = directory.appendingPathComponent("rsvg.log")
        try runTool("rsvg-convert", ["--format", "png", "--output", png.path, svgURL.path], output: log)
        try runTool("pngtopnm", [png.path], output: ppm)
        return try RGBImage(ppm: fileBytes(ppm))
    }
}

@Suite("Line chart rendered by rsvg-convert")
struct LineChartRenderTests {
    static func chart(series: [LineChartSVG.Series]) -> LineChartSVG {
        LineChartSVG(title: "Rolling return of two runs", columns: 2, panels: [
            .init(title: "vs frames", xLabel: "frames", yLabel: "raw return", xFormat: .count, series: series),
            .init(title: "vs wall time", xLabel: "wall time (minutes)", yLabel: "raw return", xFormat: .minutes,
                  series: series.map { line in
                      var line = line
                      line.points = line.points.map { .init(x: $0.x / 1000, y: $0.y) }  // seconds
                      return line
                  }),
        ])
    }

    @Test("the picture has the declared size, a white background, both series in every plot, rising and falling, and the legend")
    func overlay() throws {
        let series = twoSeries(count: 400)
        let chart = Self.chart(series: series)
        let layout = chart.layout
        let image = try renderSVG(chart.svg())
        #expect(image.width == Int(layout.width) && image.height == Int(layout.height))

        let white = stride(from: 0, to: image.pixels.count, by: 3).filter {
            image.pixels[$0] >= 245 && image.pixels[$0 + 1] >= 245 && image.pixels[$0 + 2] >= 245
        }.count
        let whiteShare = Double(white) / Double(image.width * image.height)
        #expect(whiteShare > 0.75 && whiteShare < 0.995, "white share \(whiteShare)")

        // Text (the title) is drawn: dark pixels above the first plot.
        let plot0 = layout.plotAreas[0]
        var dark = 0
        for y in 0 ..< Int(plot0.y) - 2 {
            for x in 0 ..< image.width where image.pixel(x, y).r < 100 && image.pixel(x, y).g < 100 { dark += 1 }
        }
        #expect(dark > 50, "\(dark) dark pixels of title text")

        for (index, line) in series.enumerated() {
            let matches = image.pixels(matching: line.color)
            let legend = try #require(layout.legendArea)
            let inLegend = matches.filter { legend.contains(x: Double($0.x), y: Double($0.y)) }
            #expect(inLegend.count >= 20, "series \(index): \(inLegend.count) legend pixels")
            var inPlots = 0
            for plot in layout.plotAreas {
                let inside = matches.filter { plot.contains(x: Double($0.x), y: Double($0.y)) }
                inPlots += inside.count
                // The line crosses the plot from side to side: most pixel columns show it.
                let columns = Set(inside.map(\.x)).count
                #expect(Double(columns) > 0.8 * plot.width, "series \(index): \(columns) of \(Int(plot.width)) columns")
                // Its direction: y grows upwards, so the rising series sits lower on the left.
                let left = inside.filter { Double($0.x) < plot.x + plot.width / 3 }
                let right = inside.filter { Double($0.x) > plot.maxX - plot.width / 3 }
                let leftRow = Double(left.map(\.y).reduce(0, +)) / Double(max(left.count, 1))
                let rightRow = Double(right.map(\.y).reduce(0, +)) / Double(max(right.count, 1))
                let rising = index == 0
                #expect(rising ? leftRow > rightRow + 50 : leftRow + 50 < rightRow,
                        "series \(index): mean row \(leftRow) on the left, \(rightRow) on the right")
            }
            let stray = matches.count - inPlots - inLegend.count
            #expect(stray <= matches.count / 50, "series \(index): \(stray) pixels outside the plots and the legend")
        }
    }

    @Test("the checks can fail: a chart without points shows none of the series colours, and a broken SVG does not render")
    func negativeControl() throws {
        let empty = twoSeries(count: 400).map { line in var line = line; line.points = []; return line }
        let chart = Self.chart(series: empty)
        let image = try renderSVG(chart.svg())
        for line in empty {
            let inPlots = image.pixels(matching: line.color).filter { pixel in
                chart.layout.plotAreas.contains { $0.contains(x: Double(pixel.x), y: Double(pixel.y)) }
            }
            #expect(inPlots.isEmpty)
        }
        #expect(throws: TestFailure.self) { try renderSVG("") }
        #expect(throws: TestFailure.self) { try renderSVG("<svg xmlns=\"http://www.w3.org/2000/svg\"") }
    }
}

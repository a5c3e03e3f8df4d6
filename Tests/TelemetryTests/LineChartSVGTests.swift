import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Telemetry

/// The elements of an XML document as Foundation's parser sees them, or the parser's error.
final class ParsedXML: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text = "" }
    private(set) var elements: [Element] = []
    private var open: [Int] = []
    private(set) var error: Error?

    init(_ text: String) {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        if !parser.parse() { error = parser.parserError ?? TestFailure("XMLParser failed without an error") }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        open.append(elements.count)
        elements.append(Element(name: name, attributes: attributes))
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func named(_ name: String) -> [Element] { elements.filter { $0.name == name } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A rising and a falling series over `count` points, x in frames.
func twoSeries(count: Int = 200) -> [LineChartSVG.Series] {
    let rising = (0 ..< count).map { LineChartSVG.Point(x: Double($0) * 5000, y: Double($0) / Double(count) * 90 - 10) }
    let falling = (0 ..< count).map { LineChartSVG.Point(x: Double($0) * 5000, y: 80 - Double($0) / Double(count) * 60) }
    return [LineChartSVG.Series(label: "seed 1", color: LineChartSVG.palette[0], points: rising),
            LineChartSVG.Series(label: "seed 2", color: LineChartSVG.palette[1], points: falling)]
}

@Suite("Line chart SVG")
struct LineChartSVGTests {
    @Test("the SVG is well-formed XML with one polyline per series, a legend entry per series, and sized as its layout says")
    func wellFormed() throws {
        let series = twoSeries()
        let chart = LineChartSVG(title: "two runs", columns: 2, panels: [
            .init(title: "Return", xLabel: "frames", yLabel: "raw return", xFormat: .count, series: series),
            .init(title: "Return (time)", xLabel: "wall time (minutes)", yLabel: "raw return", xFormat: .minutes, series: series),
            .init(title: "Empty", xLabel: "x", yLabel: "y", series: []),
        ])
        let xml = ParsedXML(chart.svg())
        #expect(xml.error == nil, "\(String(describing: xml.error))")
        let root = try #require(xml.elements.first)
        let layout = chart.layout
        #expect(root.name == "svg")
        #expect(root.attributes["width"] == "984" && Double(root.attributes["width"]!) == layout.width)
        #expect(Double(root.attributes["height"] ?? "") == layout.height)
        #expect(xml.named("polyline").count == 4)
        #expect(layout.plotAreas.count == 3)
        let texts = xml.named("text").map(\.text)
        #expect(texts.contains("two runs") && texts.contains("Return") && texts.contains("wall time (minutes)"))
        #expect(texts.filter { $0 == "seed 1" }.count == 1 && texts.filter { $0 == "seed 2" }.count == 1)
        #expect(texts.contains("no data yet"))
        #expect(texts.contains("1M"), "frames ticks in thousands format: \(texts)")
        // Every polyline point lies inside its panel's plot area.
        for polyline in xml.named("polyline") {
            let points = polyline.attributes["points", default: ""].split(separator: " ").map { pair -> (Double, Double) in
                let xy = pair.split(separator: ",")
                return (Double(xy[0])!, Double(xy[1])!)
            }
            #expect(points.count == 200)
            #expect(points.allSatisfy { point in layout.plotAreas.contains { $0.contains(x: point.0, y: point.1) } })
        }
    }

    @Test("labels with markup characters and control bytes are escaped and read back unchanged")
    func escaping() throws {
        let label = "a<b & \"c\" 'd' >e"
        #expect(_SVGText.escape(label) == "a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;e")
        #expect(_SVGText.escape("bell\u{7}null\u{0}") == "bell\u{FFFD}null\u{FFFD}")
        #expect(_SVGText.escape("tab\tnewline\n é \u{1F600}") == "tab\tnewline\n é \u{1F600}")
        let chart = LineChartSVG(title: "<title> & \u{1}", columns: 1, panels: [
            .init(title: "x < y", xLabel: "\"frames\"", yLabel: "it's", series: [
                .init(label: label, color: "#1f77b4", points: [.init(x: 0, y: 0), .init(x: 1, y: 1)]),
            ]),
        ])
        let xml = ParsedXML(chart.svg())
        #expect(xml.error == nil, "\(String(describing: xml.error))")
        let texts = xml.named("text").map(\.text)
        #expect(texts.contains(label) && texts.contains("x < y") && texts.contains("\"frames\"") && texts.contains("it's"))
        #expect(texts.contains("<title> & \u{FFFD}"))
    }

    @Test("ticks are 1, 2 or 5 x 10^k, cover the data, and are labelled without locale", arguments: [
        (0.0, 1.0), (0.0, 87.3), (-23.5, 94.0), (1_234.0, 1_250_000.0), (0.0, 0.0), (42.0, 42.0),
        (-0.003, 0.0071), (0.0, 20_000_000.0), (95.0, 100.0),
    ])
    func niceTicks(minimum: Double, maximum: Double) throws {
        for format in [LineChartSVG.AxisFormat.plain, .count] {
            let axis = _ChartAxis(minimum: minimum, maximum: maximum, format: format)
            var mantissa = axis.step
            while mantissa >= 10 { mantissa /= 10 }
            while mantissa < 1 { mantissa *= 10 }
            #expect([1.0, 2.0, 5.0].contains { abs($0 - mantissa) < 1e-9 }, "step \(axis.step)")
            #expect(axis.lower <= minimum && axis.upper >= maximum)
            let ticks = axis.ticks
            #expect((2 ... 12).contains(ticks.count), "\(ticks)")
            #expect(ticks.allSatisfy { abs($0 / axis.step - ($0 / axis.step).rounded()) < 1e-9 })
            #expect(abs(ticks.first! - axis.lower) < 1e-9 * max(1, abs(axis.lower)))
            let labels = ticks.map(axis.label)
            #expect(Set(labels).count == labels.count, "distinct labels: \(labels)")
            #expect(labels.allSatisfy { !$0.contains(",") && !$0.contains(" ") })
        }
    }

    @Test("tick labels: thousands for counts, minutes for durations, trimmed decimals")
    func tickLabels() {
        let frames = _ChartAxis(minimum: 0, maximum: 2_300_000, format: .count)
        #expect(frames.step == 500_000)
        #expect(frames.ticks.map(frames.label) == ["0", "500k", "1M", "1.5M", "2M", "2.5M"])
        let fine = _ChartAxis(minimum: 0, maximum: 1_150_000, format: .count)
        #expect(fine.ticks.map(fine.label) == ["0", "200k", "400k", "600k", "800k", "1M", "1.2M"])
        let minutes = _ChartAxis(minimum: 0, maximum: 20 * 60, format: .minutes)
        #expect(minutes.ticks.map(minutes.label) == ["0", "5", "10", "15", "20"])
        #expect(minutes.fraction(of: 600) == 0.5)
        let small = _ChartAxis(minimum: -0.3, maximum: 0.7, format: .plain)
        #expect(small.ticks.map(small.label) == ["-0.4", "-0.2", "0", "0.2", "0.4", "0.6", "0.8"])
        #expect(_ChartAxis.fixed(-0.04, decimals: 1) == "0.0")
        #expect(_ChartAxis.fixed(1234.5678, decimals: 2) == "1234.57")
        #expect(_ChartAxis.fixed(-7, decimals: 0) == "-7")
        #expect(_ChartAxis.abbreviated(2_500_000_000, step: 500_000_000) == "2.5G")
    }

    @Test("decimation keeps at most the limit, the first and last points, the extremes, and the order")
    func decimation() {
        // A random walk of 100,000 steps (a long run's rolling mean is as jagged as this at worst).
        var y = 0.0
        let bytes = pseudoRandomBytes(count: 100_000, seed: 9)
        let points = bytes.enumerated().map { index, byte -> LineChartSVG.Point in
            y += Double(byte) - 127.5
            return .init(x: Double(index) * 10, y: y)
        }
        let kept = LineChartSVG.decimate(points, maxPoints: 2000)
        #expect(kept.count <= 2000 && kept.count >= 1900)
        #expect(kept.first == points.first && kept.last == points.last)
        #expect(kept.map(\.y).max() == points.map(\.y).max())
        #expect(kept.map(\.y).min() == points.map(\.y).min())
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.x < $1.x })
        // Short series are left alone; non-finite points are dropped.
        #expect(LineChartSVG.decimate(Array(points.prefix(50)), maxPoints: 2000) == Array(points.prefix(50)))
        let gappy = [LineChartSVG.Point(x: 0, y: 1), .init(x: 1, y: .nan), .init(x: .infinity, y: 2), .init(x: 3, y: 4)]
        #expect(LineChartSVG.decimate(gappy, maxPoints: 4) == [.init(x: 0, y: 1), .init(x: 3, y: 4)])
    }

    @Test("a 100,000-point series makes a small file")
    func fileSize() {
        let points = (0 ..< 100_000).map { LineChartSVG.Point(x: Double($0) * 2000, y: sin(Double($0) / 500) * 50) }
        let chart = LineChartSVG(columns: 1, panels: [
            .init(title: "long", xLabel: "frames", yLabel: "y", xFormat: .count,
                  series: [.init(label: "run", color: LineChartSVG.palette[2], points: points)]),
        ])
        let size = chart.svg().utf8.count
        #expect(size < 60_000, "\(size) bytes")
    }

    @Test("write replaces the file atomically")
    func write() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("curve.svg")
            try Data("old".utf8).write(to: url)
            let chart = LineChartSVG(columns: 1, panels: [.init(title: "t", xLabel: "x", yLabel: "y", series: twoSeries())])
            try chart.write(to: url)
            #expect(try String(contentsOf: url, encoding: .utf8) == chart.svg())
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["curve.svg"])
        }
    }
}

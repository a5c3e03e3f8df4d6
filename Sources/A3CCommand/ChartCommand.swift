import ArgumentParser
import Foundation
import Telemetry

/// `a3c chart`: each column of a CSV file drawn against its first, one panel a column, into one SVG
/// (the project's own chart code, as `a3c report` uses). Made for traces over time, such as the
/// frames/s and memory that `scripts/soak` samples during a long run.
struct ChartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart",
        abstract: "Draw each column of a CSV file against its first column into one SVG file (e.g. a soak run's trace).",
        discussion: """
            The CSV has a header row and numbers only; its first column is the x axis (written in minutes \
            when its name ends in "seconds"). Empty cells are skipped. \
            Example: a3c chart docs/soak/take_cover-trace.csv --output docs/soak/take_cover.svg
            """
    )

    @Argument(help: "The CSV file: a header row, then rows of numbers.")
    var csv: String

    @Option(help: "The SVG file to write.")
    var output = "chart.svg"

    @Option(help: "Title above the charts (default: the CSV file's name).")
    var title: String?

    func validate() throws {
        guard output.lowercased().hasSuffix(".svg") else { throw ValidationError("--output must name a .svg file, got \(output)") }
        try requireOutputFolder(of: output, option: "--output", what: "the chart")
    }

    /// A CSV file that cannot be drawn: what is wrong with it, and where.
    struct CSVError: Error, CustomStringConvertible {
        let description: String
    }

    func run() throws {
        let url = URL(fileURLWithPath: csv)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw CSVError(description: "cannot read \(csv) as a UTF-8 text file: give the path of a CSV file")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
              header.count >= 2 else {
            throw CSVError(description: "\(csv) needs a header row of at least two columns (x, then one or more series)")
        }
        var columns = [[Double?]](repeating: [], count: header.count)
        for (number, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == header.count else {
                throw CSVError(description: "\(csv), row \(number + 2): \(cells.count) cells where the header has \(header.count)")
            }
            for (index, cell) in cells.enumerated() {
                let trimmed = cell.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { columns[index].append(nil); continue }
                guard let value = Double(trimmed) else {
                    throw CSVError(description: "\(csv), row \(number + 2), column \(header[index]): '\(trimmed)' is not a number")
                }
                columns[index].append(value)
            }
        }
        guard !columns[0].isEmpty else { throw CSVError(description: "\(csv) has a header but no rows of data") }
        let xName = header[0]
        let xFormat: LineChartSVG.AxisFormat = xName.hasSuffix("seconds") ? .minutes : .plain
        let panels = header.indices.dropFirst().map { index -> LineChartSVG.Panel in
            let points = zip(columns[0], columns[index]).compactMap { x, y -> LineChartSVG.Point? in
                guard let x, let y else { return nil }
                return LineChartSVG.Point(x: x, y: y)
            }
            let series = LineChartSVG.Series(label: "", color: LineChartSVG.palette[0], points: points)
            return LineChartSVG.Panel(title: header[index], xLabel: xFormat == .minutes ? "minutes" : xName,
                                      yLabel: header[index], xFormat: xFormat, series: [series])
        }
        let chart = LineChartSVG(title: title ?? url.lastPathComponent, columns: 1, panels: panels)
        let outputURL = URL(fileURLWithPath: output)
        try chart.write(to: outputURL)
        print("wrote \(outputURL.path): \(panels.count) panel\(panels.count == 1 ? "" : "s") of \(columns[0].count) rows")
    }
}

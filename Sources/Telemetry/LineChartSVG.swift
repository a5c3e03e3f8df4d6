import Foundation

/// A figure of line charts written as one SVG 1.1 file that any browser, Inkscape or
/// `rsvg-convert` shows: learning curves of one run, or of several runs overlaid.
///
/// What is drawn: a title (optional), then a grid of `panels`, `columns` to a row. Each panel
/// has a title, an x and a y axis with labels and "nice" ticks (1, 2, 5 x 10^k, with light grid
/// lines), and its series as polylines, one colour each. Below the grid one legend lists every
/// distinct (label, colour) of the figure once, so a run keeps one colour in all its panels.
///
/// Why this shape: a curve file must open anywhere with no plotting library, and a person
/// comparing seeds wants the same run in the same colour in every panel, and one legend.
///
/// Sizes: each panel is `panelWidth` x `panelHeight` SVG units (1 unit = 1 pixel at 96 dpi);
/// a series of more than `maxPointsPerSeries` points is decimated (`decimate`), so a run of
/// 100,000 episodes still gives a file of a few hundred kilobytes. Numbers are written with a
/// fixed "." and no grouping whatever the locale; every text is XML-escaped.
///
/// ```swift
/// let chart = LineChartSVG(title: "basic", columns: 2, panels: [
///     .init(title: "Return", xLabel: "frames", yLabel: "raw return", xFormat: .count,
///           series: [.init(label: "seed 1", color: LineChartSVG.palette[0], points: points)]),
/// ])
/// try chart.write(to: runDirectory.appendingPathComponent("curve.svg"))
/// ```
public struct LineChartSVG: Sendable {
    /// One data point.
    public struct Point: Equatable, Sendable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) { self.x = x; self.y = y }
    }

    /// How an axis writes its values.
    public enum AxisFormat: Equatable, Sendable {
        /// Decimal numbers (0, 2.5, 5); values of 10,000 or more as `.count`.
        case plain
        /// Counts such as frames, with k, M, G suffixes: 500k, 1.2M.
        case count
        /// Durations: the values are seconds, the ticks are placed and written in minutes.
        case minutes
    }

    /// One line: its legend label, its colour (`#rrggbb`, e.g. from `palette`), its points in
    /// drawing order. Non-finite points are skipped.
    public struct Series: Sendable {
        public var label: String
        public var color: String
        /// Drawn dashed: a second way to tell lines apart once the palette's colours repeat.
        public var dashed: Bool
        public var points: [Point]
        public init(label: String, color: String, dashed: Bool = false, points: [Point]) {
            self.label = label; self.color = color; self.dashed = dashed; self.points = points
        }
    }

    /// One chart of the grid.
    public struct Panel: Sendable {
        public var title: String
        public var xLabel: String
        public var yLabel: String
        public var xFormat: AxisFormat
        public var yFormat: AxisFormat
        public var series: [Series]
        public init(title: String, xLabel: String, yLabel: String, xFormat: AxisFormat = .plain,
                    yFormat: AxisFormat = .plain, series: [Series]) {
            self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
            self.xFormat = xFormat; self.yFormat = yFormat; self.series = series
        }
    }

    /// A rectangle in SVG units (y grows downwards).
    public struct Rect: Equatable, Sendable {
        public var x, y, width, height: Double
        public var maxX: Double { x + width }
        public var maxY: Double { y + height }
        public func contains(x px: Double, y py: Double) -> Bool {
            px >= x && px <= maxX && py >= y && py <= maxY
        }
    }

    /// Where things land: the figure's size, each panel's plot area (inside its axes, in panel
    /// order), and the legend's area (nil when no series has a label).
    public struct Layout: Equatable, Sendable {
        public var width: Double
        public var height: Double
        public var plotAreas: [Rect]
        public var legendArea: Rect?
    }

    /// Ten colours that stay distinct from each other and from the black, grey and white of the
    /// axes (Tableau 10 without its grey, plus a dark blue-green).
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#003f5c"]
    /// Series longer than this are decimated before drawing (see `decimate`).
    public static let maxPointsPerSeries = 2000
    public static let panelWidth = 480.0
    public static let panelHeight = 320.0

    public var title: String?
    /// Panels per row of the grid.
    public var columns: Int
    public var panels: [Panel]

    public init(title: String? = nil, columns: Int, panels: [Panel]) {
        precondition(columns >= 1, "a figure needs at least one column, got \(columns)")
        precondition(!panels.isEmpty, "a figure needs at least one panel")
        self.title = title
        self.columns = columns
        self.panels = panels
    }

    /// Writes the SVG atomically (`AtomicFile`): a reader sees the old file or the whole new one.
    /// - Throws: `TelemetryError.io` naming the file if it cannot be written.
    public func write(to url: URL) throws {
        try AtomicFile.write(bytes: Array(svg().utf8), to: url)
    }

    // MARK: - Layout

    static let margin = 12.0
    static let titleHeight = 34.0
    /// Plot area inside a panel's cell: room for the title above, tick labels and the axis labels
    /// to the left and below.
    static let plotInsets = (left: 72.0, right: 18.0, top: 34.0, bottom: 52.0)
    static let legendRowHeight = 20.0
    static let legendSwatchWidth = 26.0
    /// Rough width of one character of 12-unit DejaVu Sans, for sizing the legend.
    static let characterWidth = 7.2

    private var rows: Int { (panels.count + columns - 1) / columns }
    private var gridWidth: Double { Double(columns) * Self.panelWidth }

    /// The distinct labelled series of all panels, in order of first appearance.
    var legendEntries: [Series] {
        var seen = Set<String>(), entries: [Series] = []
        for series in panels.flatMap(\.series) where !series.label.isEmpty {
            if seen.insert("\(series.color)|\(series.dashed)|\(series.label)").inserted { entries.append(series) }
        }
        return entries
    }

    /// The legend's labels, cut to fit the figure's width, and how many fit on a row.
    private func legendGrid(_ entries: [Series]) -> (labels: [String], perRow: Int, itemWidth: Double) {
        let maxCharacters = max(8, Int((gridWidth - Self.legendSwatchWidth - 24) / Self.characterWidth))
        let labels = entries.map { $0.label.count <= maxCharacters ? $0.label : String($0.label.prefix(maxCharacters - 1)) + "\u{2026}" }
        let longest = labels.map(\.count).max() ?? 0
        let itemWidth = min(gridWidth, Self.legendSwatchWidth + 24 + Double(longest) * Self.characterWidth)
        return (labels, max(1, Int(gridWidth / itemWidth)), itemWidth)
    }

    public var layout: Layout {
        let top = Self.margin + (title == nil ? 0 : Self.titleHeight)
        let plots = panels.indices.map { index -> Rect in
            let cellX = Self.margin + Double(index % columns) * Self.panelWidth
            let cellY = top + Double(index / columns) * Self.panelHeight
            let insets = Self.plotInsets
            return Rect(x: cellX + insets.left, y: cellY + insets.top,
                        width: Self.panelWidth - insets.left - insets.right,
                        height: Self.panelHeight - insets.top - insets.bottom)
        }
        let gridBottom = top + Double(rows) * Self.panelHeight
        let entries = legendEntries
        var legend: Rect?
        if !entries.isEmpty {
            let perRow = legendGrid(entries).perRow
            let legendRows = (entries.count + perRow - 1) / perRow
            legend = Rect(x: Self.margin, y: gridBottom, width: gridWidth,
                          height: Double(legendRows) * Self.legendRowHeight + 8)
        }
        return Layout(width: 2 * Self.margin + gridWidth,
                      height: (legend?.maxY ?? gridBottom) + Self.margin,
                      plotAreas: plots, legendArea: legend)
    }

    // MARK: - Drawing

    /// The whole SVG document.
    public func svg() -> String {
        let layout = self.layout
        var out = _SVGText()
        out.line("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        out.line("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(out.n(layout.width))\" "
            + "height=\"\(out.n(layout.height))\" viewBox=\"0 0 \(out.n(layout.width)) \(out.n(layout.height))\" "
            + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"#222222\">")
        out.line("<rect x=\"0\" y=\"0\" width=\"\(out.n(layout.width))\" height=\"\(out.n(layout.height))\" fill=\"#ffffff\"/>")
        if let title {
            out.text(title, x: layout.width / 2, y: Self.margin + 20, anchor: "middle",
                     attributes: "font-size=\"15\" font-weight=\"bold\"")
        }
        for (panel, plot) in zip(panels, layout.plotAreas) {
            draw(panel, in: plot, into: &out)
        }
        if let area = layout.legendArea { drawLegend(in: area, into: &out) }
        out.line("</svg>")
        return out.text
    }

    /// Frame, grid lines and ticks, axis labels, then the series on top (first series lowest).
    private func draw(_ panel: Panel, in plot: Rect, into out: inout _SVGText) {
        let series = panel.series.map { Series(label: $0.label, color: $0.color, dashed: $0.dashed,
                                               points: Self.decimate($0.points, maxPoints: Self.maxPointsPerSeries)) }
        let all = series.flatMap(\.points)
        let xAxis = _ChartAxis(minimum: all.map(\.x).min() ?? 0, maximum: all.map(\.x).max() ?? 1, format: panel.xFormat)
        let yAxis = _ChartAxis(minimum: all.map(\.y).min() ?? 0, maximum: all.map(\.y).max() ?? 1, format: panel.yFormat)
        func px(_ x: Double) -> Double { plot.x + plot.width * xAxis.fraction(of: x) }
        func py(_ y: Double) -> Double { plot.maxY - plot.height * yAxis.fraction(of: y) }

        out.line("<g>")
        out.text(panel.title, x: plot.x + plot.width / 2, y: plot.y - 14, anchor: "middle",
                 attributes: "font-size=\"13\" font-weight=\"bold\"")
        for tick in xAxis.ticks {
            let x = plot.x + plot.width * (tick - xAxis.lower) / (xAxis.upper - xAxis.lower)
            out.line("<line x1=\"\(out.n(x))\" y1=\"\(out.n(plot.y))\" x2=\"\(out.n(x))\" y2=\"\(out.n(plot.maxY))\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>")
            out.text(xAxis.label(tick), x: x, y: plot.maxY + 16, anchor: "middle", attributes: "font-size=\"11\"")
        }
        for tick in yAxis.ticks {
            let y = plot.maxY - plot.height * (tick - yAxis.lower) / (yAxis.upper - yAxis.lower)
            out.line("<line x1=\"\(out.n(plot.x))\" y1=\"\(out.n(y))\" x2=\"\(out.n(plot.maxX))\" y2=\"\(out.n(y))\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>")
            out.text(yAxis.label(tick), x: plot.x - 6, y: y + 4, anchor: "end", attributes: "font-size=\"11\"")
        }
        out.line("<rect x=\"\(out.n(plot.x))\" y=\"\(out.n(plot.y))\" width=\"\(out.n(plot.width))\" height=\"\(out.n(plot.height))\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>")
        out.text(panel.xLabel, x: plot.x + plot.width / 2, y: plot.maxY + 38, anchor: "middle")
        let labelX = plot.x - Self.plotInsets.left + 16, labelY = plot.y + plot.height / 2
        out.text(panel.yLabel, x: labelX, y: labelY, anchor: "middle",
                 attributes: "transform=\"rotate(-90 \(out.n(labelX)) \(out.n(labelY)))\"")
        if all.isEmpty {
            out.text("no data yet", x: plot.x + plot.width / 2, y: plot.y + plot.height / 2, anchor: "middle",
                     attributes: "fill=\"#888888\"")
        }
        for line in series where !line.points.isEmpty {
            let color = _SVGText.escape(line.color)
            if line.points.count == 1 {
                out.line("<circle cx=\"\(out.n(px(line.points[0].x)))\" cy=\"\(out.n(py(line.points[0].y)))\" r=\"2.5\" fill=\"\(color)\"/>")
                continue
            }
            var points = ""
            points.reserveCapacity(line.points.count * 14)
            for point in line.points {
                if !points.isEmpty { points += " " }
                points += out.n(px(point.x)) + "," + out.n(py(point.y))
            }
            let dash = line.dashed ? " stroke-dasharray=\"7 4\"" : ""
            out.line("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" stroke-linejoin=\"round\"\(dash) points=\"\(points)\"/>")
        }
        out.line("</g>")
    }

    /// One row per `perRow` entries: a short line in the series' colour and style, then its label.
    private func drawLegend(in area: Rect, into out: inout _SVGText) {
        let entries = legendEntries
        let (labels, perRow, itemWidth) = legendGrid(entries)
        out.line("<g>")
        for (index, (entry, label)) in zip(entries, labels).enumerated() {
            let x = area.x + Double(index % perRow) * itemWidth + 8
            let y = area.y + 4 + Double(index / perRow) * Self.legendRowHeight + Self.legendRowHeight / 2
            let dash = entry.dashed ? " stroke-dasharray=\"7 4\"" : ""
            out.line("<line x1=\"\(out.n(x))\" y1=\"\(out.n(y))\" x2=\"\(out.n(x + Self.legendSwatchWidth))\" y2=\"\(out.n(y))\" stroke=\"\(_SVGText.escape(entry.color))\" stroke-width=\"3\"\(dash)/>")
            out.text(label, x: x + Self.legendSwatchWidth + 6, y: y + 4, anchor: "start")
        }
        out.line("</g>")
    }
}

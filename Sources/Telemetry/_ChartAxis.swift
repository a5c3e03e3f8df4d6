/// One axis of a chart panel: its range, rounded out to "nice" numbers, and the ticks inside it.
///
/// Nice steps are 1, 2 or 5 times a power of ten (the classic choice of Heckbert, "Nice numbers
/// for graph labels", Graphics Gems 1990): ticks then read 0, 250k, 500k or 0, 0.5, 1, never
/// 0, 0.37, 0.74. The range is widened to whole steps, so the first and last ticks sit on the
/// plot's edges and every point lies inside.
///
/// Tick labels are formatted here with integer arithmetic only, never through a locale
/// (`String(format:)` or a `NumberFormatter` could write "1,5" on a German system).
struct _ChartAxis: Equatable {
    /// How the values of an axis are written.
    typealias Format = LineChartSVG.AxisFormat

    /// Lower and upper end of the axis, in the units the ticks are written in (minutes for
    /// `.minutes`, the data's units otherwise).
    let lower: Double
    let upper: Double
    /// Distance between ticks: 1, 2 or 5 x 10^k.
    let step: Double
    let format: Format

    /// An axis covering `minimum...maximum` (data units: seconds for `.minutes`) with about
    /// `targetTickCount` intervals. An empty or one-value range is widened so it still has ticks.
    /// An invalid range (an end NaN or infinite, or minimum > maximum) gets the axis of 0...1, and so
    /// does a range a Double cannot measure: data spanning ±1e308, whose width overflows to infinity
    /// (or whose ends, rounded out to whole steps, would), or a width so small its step underflows.
    init(minimum: Double, maximum: Double, format: Format, targetTickCount: Int = 5) {
        precondition(targetTickCount >= 1, "an axis needs at least one interval")
        var low = minimum, high = maximum
        if format == .minutes { low /= 60; high /= 60 }
        if !(low.isFinite && high.isFinite) || low > high { low = 0; high = 1 }
        if low == high {
            let half = low == 0 ? 1 : abs(low) * 0.1
            low -= half; high += half
        }
        let axis = _ChartAxis.roundedOut(low: low, high: high, targetTickCount: targetTickCount)
            ?? _ChartAxis.roundedOut(low: 0, high: 1, targetTickCount: targetTickCount)
            ?? (lower: 0.0, upper: 1.0, step: 1.0)
        self.step = axis.step
        self.lower = axis.lower
        self.upper = axis.upper
        self.format = format
    }

    /// `low...high` widened to whole nice steps, or nil if its width, its step or its widened ends are
    /// not finite and positive as needed (`high - low` overflows for data spanning ±1e308).
    private static func roundedOut(low: Double, high: Double, targetTickCount: Int)
        -> (lower: Double, upper: Double, step: Double)? {
        let rough = (high - low) / Double(targetTickCount)
        guard rough > 0 && rough.isFinite else { return nil }
        let step = niceStep(rough)
        guard step > 0 && step.isFinite else { return nil }
        let lower = (low / step).rounded(.down) * step, upper = (high / step).rounded(.up) * step
        guard lower.isFinite && upper.isFinite else { return nil }
        return (lower: lower, upper: upper, step: step)
    }

    /// The 1, 2 or 5 x 10^k nearest to `rough` (`rough` > 0), Heckbert's rounding: a mantissa
    /// below 1.5 gives 1, below 3 gives 2, below 7 gives 5, else 10. An axis asked for 5
    /// intervals so gets between 3 and 8.
    static func niceStep(_ rough: Double) -> Double {
        precondition(rough > 0 && rough.isFinite, "a tick step must be positive and finite, got \(rough)")
        var power = 1.0
        while power * 10 <= rough { power *= 10 }
        while power > rough { power /= 10 }
        let mantissa = rough / power  // in [1, 10)
        let multiple: Double = mantissa < 1.5 ? 1 : mantissa < 3 ? 2 : mantissa < 7 ? 5 : 10
        return multiple * power
    }

    /// Tick positions from `lower` to `upper`, each an integer multiple of `step` (computed as
    /// index * step, so no rounding error accumulates).
    var ticks: [Double] {
        let first = Int((lower / step).rounded()), last = Int((upper / step).rounded())
        return (first ... max(first, last)).map { Double($0) * step }
    }

    /// Where `value` (data units) falls between the ends: 0 at `lower`, 1 at `upper`.
    func fraction(of value: Double) -> Double {
        let scaled = format == .minutes ? value / 60 : value
        return (scaled - lower) / (upper - lower)
    }

    /// The text of a tick, e.g. "0", "2.5", "500k", "1.2M" (`.count`), "30" (`.minutes`).
    func label(_ tick: Double) -> String {
        let largest = max(abs(lower), abs(upper))
        if format == .count || largest >= 10_000 {
            return _ChartAxis.abbreviated(tick, step: step)
        }
        return _ChartAxis.trimmed(_ChartAxis.fixed(tick, decimals: _ChartAxis.decimals(for: step)))
    }

    /// `tick` with a k, M or G suffix chosen for its own size (500k next to 1.5M), with as many
    /// decimals as the step needs in that unit.
    static func abbreviated(_ tick: Double, step: Double) -> String {
        let units: [(Double, String)] = [(1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (unit, suffix) in units where abs(tick) >= unit {
            return trimmed(fixed(tick / unit, decimals: decimals(for: step / unit))) + suffix
        }
        return trimmed(fixed(tick, decimals: decimals(for: step)))
    }

    /// Decimals that show a multiple of `step` exactly (0 for steps of 1 or more, 1 for 0.5).
    static func decimals(for step: Double) -> Int {
        var decimals = 0, scaled = step
        while decimals < 9 && abs(scaled - scaled.rounded()) > 1e-9 * max(1, abs(scaled)) {
            scaled *= 10
            decimals += 1
        }
        return decimals
    }

    /// `value` rounded to `decimals` places, written with a "." and no grouping, whatever the
    /// locale. Values beyond 2^53 (never a coordinate) fall back to Swift's own description.
    static func fixed(_ value: Double, decimals: Int) -> String {
        precondition((0 ... 9).contains(decimals), "0 to 9 decimals, got \(decimals)")
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale: Int64 = 1
        for _ in 0 ..< decimals { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded()
        guard scaled < 9.0e15 else { return "\(value)" }
        let units = Int64(scaled)
        var text = (value < 0 && units != 0 ? "-" : "") + String(units / scale)
        if decimals > 0 {
            let fraction = String(units % scale)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
    }

    /// "1.50" -> "1.5", "2.0" -> "2", "10" -> "10".
    static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var text = Substring(text)
        while text.hasSuffix("0") { text = text.dropLast() }
        if text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }
}

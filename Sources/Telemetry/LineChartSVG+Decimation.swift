extension LineChartSVG {
    /// At most `maxPoints` of `points`, chosen so the line looks the same: the first and the last
    /// point, and from each of (maxPoints - 2) / 2 equal runs of the points between them, the
    /// lowest and the highest (min-max decimation, in their original order). Every peak and
    /// trough of the curve therefore survives, including the overall extremes, which plain
    /// every-n-th sampling would drop; the pixels a long curve covers stay the same.
    ///
    /// Why: a 20-minute run can log 100,000 episodes; a plot 400 pixels wide shows at most a few
    /// thousand distinct points, and 100,000 would make a multi-megabyte SVG.
    ///
    /// Points with a non-finite coordinate are dropped first (nothing could draw them).
    public static func decimate(_ points: [Point], maxPoints: Int) -> [Point] {
        precondition(maxPoints >= 4, "decimation keeps the ends and one low and high per bucket: maxPoints >= 4, got \(maxPoints)")
        let finite = points.allSatisfy { $0.x.isFinite && $0.y.isFinite }
            ? points : points.filter { $0.x.isFinite && $0.y.isFinite }
        guard finite.count > maxPoints else { return finite }
        let inner = finite.count - 2          // points strictly between the first and the last
        let buckets = (maxPoints - 2) / 2
        var kept: [Point] = [finite[0]]
        kept.reserveCapacity(maxPoints)
        for bucket in 0 ..< buckets {
            let start = 1 + bucket * inner / buckets, end = 1 + (bucket + 1) * inner / buckets
            guard start < end else { continue }
            var lowest = start, highest = start
            for index in start ..< end {
                if finite[index].y < finite[lowest].y { lowest = index }
                if finite[index].y > finite[highest].y { highest = index }
            }
            kept.append(finite[min(lowest, highest)])
            if lowest != highest { kept.append(finite[max(lowest, highest)]) }
        }
        kept.append(finite[finite.count - 1])
        return kept
    }
}

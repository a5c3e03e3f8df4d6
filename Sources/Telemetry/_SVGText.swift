/// An SVG document being assembled: lines of markup, escaped text, fixed-point numbers.
struct _SVGText {
    private(set) var text = ""

    mutating func line(_ markup: String) {
        text += markup
        text += "\n"
    }

    /// A `<text>` element; `content` is escaped here.
    mutating func text(_ content: String, x: Double, y: Double, anchor: String, attributes: String = "") {
        let extra = attributes.isEmpty ? "" : " " + attributes
        line("<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\"\(extra)>\(Self.escape(content))</text>")
    }

    /// A coordinate: one decimal (a tenth of a pixel), locale-free.
    func n(_ value: Double) -> String {
        _ChartAxis.trimmed(_ChartAxis.fixed(value, decimals: 1))
    }

    /// `text` made safe inside an XML element or a double-quoted attribute: the five markup
    /// characters become entities, and characters XML 1.0 forbids (controls other than tab,
    /// line feed and carriage return; U+FFFE, U+FFFF) become U+FFFD, so any run name or label
    /// gives a well-formed file.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    escaped += "\u{FFFD}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }
}

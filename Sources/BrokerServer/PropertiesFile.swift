import Foundation
/// Java `.properties` syntax, as Kafka reads `server.properties`: `key=value`, `key: value` or `key value`;
/// `#` and `!` start comment lines; a line ending in an odd number of backslashes continues on the next;
/// `\t`, `\n`, `\r`, `\f`, `\uXXXX` and `\<char>` escapes. One deviation, for hand-edited files: a value
/// followed by whitespace and `#` has that trailing comment removed (reported, so the user can see it).
public enum PropertiesFile {
    public struct Entry: Hashable, Sendable {
        public var key: String
        public var value: String
        public var line: Int
        /// The inline comment removed from the value, if any.
        public var strippedComment: String?
    }

    public static func parse(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        var logical = ""
        var startLine = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw.hasSuffix("\r") ? raw.dropLast() : raw)
            if logical.isEmpty {
                line = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
                startLine = index + 1
            } else {
                line = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
            }
            let trailingBackslashes = line.reversed().prefix { $0 == "\\" }.count
            if trailingBackslashes % 2 == 1 {
                logical += line.dropLast()
                continue
            }
            logical += line
            if let entry = self.entry(logical, line: startLine) { entries.append(entry) }
            logical = ""
        }
        if !logical.isEmpty, let entry = self.entry(logical, line: startLine) { entries.append(entry) }
        return entries
    }

    private static func entry(_ line: String, line number: Int) -> Entry? {
        var key = ""
        var index = line.startIndex
        var escaped = false
        while index < line.endIndex {
            let character = line[index]
            if escaped {
                key.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "=" || character == ":" || character == " " || character == "\t" {
                break
            } else {
                key.append(character)
            }
            index = line.index(after: index)
        }
        // Skip whitespace, one separator, and whitespace again.
        var rest = line[index...].drop { $0 == " " || $0 == "\t" }
        if rest.first == "=" || rest.first == ":" { rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" } }
        var value = self.unescape(String(rest))
        var comment: String?
        if let range = value.range(of: " #") ?? value.range(of: "\t#") {
            comment = String(value[range.upperBound...]).trimmingWhitespace()
            value = String(value[..<range.lowerBound])
        }
        value = value.trimmingWhitespace()
        return key.isEmpty ? nil : Entry(key: key, value: value, line: number, strippedComment: comment)
    }

    private static func unescape(_ text: String) -> String {
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "\\", let next = iterator.next() else {
                if character != "\\" { result.append(character) }
                continue
            }
            switch next {
            case "t": result.append("\t")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "f": result.append("\u{0C}")
            case "u":
                var hex = ""
                for _ in 0..<4 { if let digit = iterator.next() { hex.append(digit) } }
                if let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) { result.unicodeScalars.append(scalar) }
            default: result.append(next)
            }
        }
        return result
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

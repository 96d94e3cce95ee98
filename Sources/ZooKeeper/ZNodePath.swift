/// Rules and helpers for znode paths, checked before a request leaves the process so a bad path is a clear
/// error rather than the C client's bare `ZBADARGUMENTS`.
public enum ZNodePath {
    /// Why a path is not a valid znode path.
    public struct InvalidPath: Error, Hashable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "invalid znode path '\(self.path)': \(self.reason)" }
    }

    /// Checks ZooKeeper's path rules: absolute, no trailing or doubled `/`, no `.`/`..` components, no NUL.
    /// - Parameter allowSequentialSuffix: a path for a sequential create may end in `/` (the server appends
    ///   the counter as the name), as ZooKeeper allows.
    /// - Throws: `InvalidPath`.
    public static func validate(_ path: String, allowSequentialSuffix: Bool = false) throws(InvalidPath) {
        guard path.hasPrefix("/") else { throw InvalidPath(path: path, reason: "it must start with /") }
        if path == "/" { return }
        if path.hasSuffix("/") && !allowSequentialSuffix {
            throw InvalidPath(path: path, reason: "it must not end with /")
        }
        // ZooKeeper's PathUtils: no NUL, no control characters, no surrogates or private-use characters.
        for scalar in path.unicodeScalars {
            let value = scalar.value
            if value == 0 { throw InvalidPath(path: path, reason: "it contains a NUL character") }
            if value <= 0x1F || (0x7F...0x9F).contains(value) || (0xD800...0xF8FF).contains(value)
                || (0xFFF0...0xFFFF).contains(value)
            {
                throw InvalidPath(path: path, reason: "it contains the invalid character U+\(String(value, radix: 16, uppercase: true))")
            }
        }
        let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, component) in components.enumerated() {
            if component.isEmpty {
                if allowSequentialSuffix && index == components.count - 1 { continue }
                throw InvalidPath(path: path, reason: "it contains an empty component (//)")
            }
            if component == "." || component == ".." {
                throw InvalidPath(path: path, reason: "it contains a relative component '\(component)'")
            }
        }
    }

    /// The parent of `path`: `/a` for `/a/b`, `/` for `/a`, `nil` for `/`.
    public static func parent(of path: String) -> String? {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return nil }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Every proper ancestor of `path` except the root, outermost first: `/a`, `/a/b` for `/a/b/c`.
    public static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = Self.parent(of: path)
        while let node = current, node != "/" {
            result.append(node)
            current = Self.parent(of: node)
        }
        return result.reversed()
    }

    /// `parent` and `child` joined with exactly one `/`.
    public static func join(_ parent: String, _ child: String) -> String {
        parent.hasSuffix("/") ? parent + child : parent + "/" + child
    }
}

/// A parsed ZooKeeper connect string: `host:port[,host:port...][/chroot]`, as in Kafka's `zookeeper.connect`.
///
/// The chroot applies to the whole string (ZooKeeper's rule), so `zk1:2181,zk2:2181/kafka` means every path
/// the client uses lives under `/kafka`. A server without a port gets ZooKeeper's default, 2181.
public struct ConnectString: Hashable, Sendable, CustomStringConvertible {
    /// One ensemble member.
    public struct Server: Hashable, Sendable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
    }

    public var servers: [Server]
    /// The chroot path (`/kafka`), or `nil` when the client works from the root.
    public var chroot: String?

    public init(servers: [Server], chroot: String? = nil) {
        self.servers = servers
        self.chroot = chroot
    }

    /// Parses `text`.
    /// - Throws: `ConnectStringError` naming what is wrong, for a config error line.
    public init(parsing text: String) throws(ConnectStringError) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw ConnectStringError(text: text, reason: "it is empty") }
        var hostsPart = Substring(trimmed)
        var chroot: String?
        if let slash = trimmed.firstIndex(of: "/") {
            hostsPart = trimmed[..<slash]
            let path = String(trimmed[slash...])
            if path != "/" {
                do {
                    try ZNodePath.validate(path)
                } catch {
                    throw ConnectStringError(text: text, reason: "chroot \(path): \(error.reason)")
                }
                chroot = path
            }
        }
        var servers: [Server] = []
        for entry in hostsPart.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(entry).trimmingWhitespace()
            guard !item.isEmpty else { throw ConnectStringError(text: text, reason: "it has an empty server entry") }
            servers.append(try Self.parseServer(item, in: text))
        }
        self.init(servers: servers, chroot: chroot)
    }

    private static func parseServer(_ item: String, in text: String) throws(ConnectStringError) -> Server {
        var host = item
        var portText: String?
        if item.hasPrefix("[") {  // [ipv6]:port
            guard let close = item.firstIndex(of: "]") else {
                throw ConnectStringError(text: text, reason: "\(item) has no closing ]")
            }
            host = String(item[item.index(after: item.startIndex)..<close])
            let rest = item[item.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw ConnectStringError(text: text, reason: "\(item) is not host:port") }
                portText = String(rest.dropFirst())
            }
        } else if let colon = item.lastIndex(of: ":") {
            host = String(item[..<colon])
            portText = String(item[item.index(after: colon)...])
        }
        guard !host.isEmpty else { throw ConnectStringError(text: text, reason: "\(item) has no host") }
        guard let portText else { return Server(host: host, port: 2181) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConnectStringError(text: text, reason: "\(item) has port \(portText), not a number from 1 to 65535")
        }
        return Server(host: host, port: port)
    }

    /// The servers only, as the C client and a chroot-less connection take them.
    public var serverList: String { self.servers.map(\.description).joined(separator: ",") }

    public var description: String { self.serverList + (self.chroot ?? "") }
}

/// A connect string that cannot be used, with the reason.
public struct ConnectStringError: Error, Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "invalid ZooKeeper connect string '\(self.text)': \(self.reason)" }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

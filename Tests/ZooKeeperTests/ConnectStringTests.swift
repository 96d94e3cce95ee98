import Testing
@testable import ZooKeeper

@Suite struct ConnectStringTests {
    @Test func parsesHostsPortsAndChroot() throws {
        let parsed = try ConnectString(parsing: "zk1:2181,zk2:2182,10.0.0.3/kafka/prod")
        #expect(parsed.servers == [
            .init(host: "zk1", port: 2181), .init(host: "zk2", port: 2182), .init(host: "10.0.0.3", port: 2181),
        ])
        #expect(parsed.chroot == "/kafka/prod")
        #expect(parsed.serverList == "zk1:2181,zk2:2182,10.0.0.3:2181")
        #expect(parsed.description == "zk1:2181,zk2:2182,10.0.0.3:2181/kafka/prod")
    }

    @Test func rootChrootIsNoChroot() throws {
        #expect(try ConnectString(parsing: "localhost:2181/").chroot == nil)
        #expect(try ConnectString(parsing: " localhost:2181 ").chroot == nil)
    }

    @Test func parsesBracketedIPv6() throws {
        let parsed = try ConnectString(parsing: "[::1]:2181,[fe80::1]")
        #expect(parsed.servers == [.init(host: "::1", port: 2181), .init(host: "fe80::1", port: 2181)])
        #expect(parsed.serverList == "[::1]:2181,[fe80::1]:2181")
    }

    @Test(arguments: [
        ("", "it is empty"),
        ("zk1:2181,,zk2:2181", "it has an empty server entry"),
        ("zk1:notaport", "zk1:notaport has port notaport, not a number from 1 to 65535"),
        ("zk1:70000", "zk1:70000 has port 70000, not a number from 1 to 65535"),
        (":2181", ":2181 has no host"),
        ("zk1:2181/kafka/", "chroot /kafka/: it must not end with /"),
        ("zk1:2181/a//b", "chroot /a//b: it contains an empty component (//)"),
    ])
    func rejectsWithAReason(text: String, reason: String) {
        #expect(throws: ConnectStringError(text: text, reason: reason)) { try ConnectString(parsing: text) }
    }
}

@Suite struct ZNodePathTests {
    @Test func validPaths() throws {
        for path in ["/", "/a", "/brokers/ids/1", "/a.b/c-d_e"] { try ZNodePath.validate(path) }
        try ZNodePath.validate("/seq/", allowSequentialSuffix: true)
    }

    @Test(arguments: ["", "a/b", "/a/", "/a//b", "/a/./b", "/a/../b", "/a\u{0}b", "/a\u{1}b", "/a\u{7F}", "/\u{E000}"])
    func invalidPaths(path: String) {
        #expect(throws: ZNodePath.InvalidPath.self) { try ZNodePath.validate(path) }
    }

    @Test func parentsAndAncestors() {
        #expect(ZNodePath.parent(of: "/a/b/c") == "/a/b")
        #expect(ZNodePath.parent(of: "/a") == "/")
        #expect(ZNodePath.parent(of: "/") == nil)
        #expect(ZNodePath.ancestors(of: "/a/b/c") == ["/a", "/a/b"])
        #expect(ZNodePath.ancestors(of: "/a") == [])
        #expect(ZNodePath.join("/a", "b") == "/a/b")
        #expect(ZNodePath.join("/", "b") == "/b")
    }
}

@Suite struct ZooKeeperErrorTests {
    @Test func mapsCCodesBothWays() {
        #expect(ZooKeeperError.Code(rawValue: -101) == .noNode)
        #expect(ZooKeeperError.Code(rawValue: -110) == .nodeExists)
        #expect(ZooKeeperError.Code(rawValue: -103) == .badVersion)
        #expect(ZooKeeperError.Code(rawValue: -112) == .sessionExpired)
        #expect(ZooKeeperError.Code(rawValue: -999) == .other(-999))
        #expect(ZooKeeperError.Code.noNode.rawValue == -101)
        #expect(ZooKeeperError.Code.closed.rawValue == nil)
        #expect(ZooKeeperError.Code.connectionLoss.isRetriable)
        #expect(!ZooKeeperError.Code.badVersion.isRetriable)
    }

    @Test func describesCodePathAndOperation() {
        let error = ZooKeeperError(.badVersion, path: "/a", operation: "setData")
        #expect(error.description == "ZooKeeper setData failed: badVersion (path /a)")
        #expect("\(ZooKeeperError.Code.other(-5000))" == "zookeeper error -5000")
    }
}

@testable import BrokerServer
import LogStorage
import Testing
import ZooKeeper

@Suite struct BrokerConfigTests {
    @Test func theSeedsOldStyleFileWorksAsWritten() throws {
        // From the Kafka 0.8 tutorial: broker.id, port, log.dirs, zookeeper.connect.
        let config = try BrokerConfig.parse("""
            broker.id=0
            port=9092
            log.dirs=/var/sxt/kafka-logs
            zookeeper.connect=bd1301:2181,bd1302:2181,bd1303:2181
            """)
        #expect(config.brokerId == 0)
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "", port: 9092)])
        #expect(config.logDirs == ["/var/sxt/kafka-logs"])
        #expect(config.zookeeperConnect?.servers.map(\.host) == ["bd1301", "bd1302", "bd1303"])
        #expect(config.warnings.isEmpty)
    }

    @Test func theSeedsAnnotatedFileWorksAndTheAnnotationsAreReported() throws {
        let config = try BrokerConfig.parse("""
            broker.id=1 ##21行  修改,注意其他两个的id分别是2和3

            listeners=PLAINTEXT://192.168.10.114:9092 #31行  修改,其他节点改成各自的IP地址

            log.dirs=/etc/kafka/kafka-logs ## 60行  修改

            num.partitions=1 ##65行 分片数量,不能超过节点数

            zookeeper.connect=192.168.10.114:2181,192.168.10.115:2181,192.168.10.116:2181
            """)
        #expect(config.brokerId == 1)
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "192.168.10.114", port: 9092)])
        #expect(config.logDirs == ["/etc/kafka/kafka-logs"])
        #expect(config.numPartitions == 1)
        #expect(config.warnings.count == 4)
        #expect(config.warnings[0] == "line 1: ignored the comment '##21行  修改,注意其他两个的id分别是2和3' after the value of broker.id")
    }

    @Test func aStockKafkaFileIsAcceptedWithItsDefaults() throws {
        let config = try BrokerConfig.parse("""
            # Licensed to the Apache Software Foundation (ASF)
            broker.id=0
            #listeners=PLAINTEXT://:9092
            num.network.threads=3
            num.io.threads=8
            socket.send.buffer.bytes=102400
            socket.receive.buffer.bytes=102400
            socket.request.max.bytes=104857600
            log.dirs=/tmp/kafka-logs
            num.partitions=1
            num.recovery.threads.per.data.dir=1
            offsets.topic.replication.factor=1
            transaction.state.log.replication.factor=1
            transaction.state.log.min.isr=1
            log.retention.hours=168
            log.segment.bytes=1073741824
            log.retention.check.interval.ms=300000
            zookeeper.connect=localhost:2181
            zookeeper.connection.timeout.ms=18000
            group.initial.rebalance.delay.ms=0
            """)
        #expect(config.warnings.isEmpty)
        #expect(config.log.retentionMs == 168 * 3_600_000)
        #expect(config.log.segmentBytes == 1_073_741_824)
        #expect(config.groupInitialRebalanceDelayMs == 0)
        #expect(config.zookeeperConnectionTimeoutMs == 18_000)
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "", port: 9092)])
        #expect(config.replicaLagTimeMaxMs == 10_000 && config.minInsyncReplicas == 1 && !config.uncleanLeaderElectionEnable)
    }

    @Test func retentionMsWinsOverMinutesOverHoursAndOverridesWinOverTheFile() throws {
        let base = "zookeeper.connect=z:2181/kafka\nlog.retention.hours=1\nlog.retention.minutes=2\n"
        #expect(try BrokerConfig.parse(base).log.retentionMs == 120_000)
        #expect(try BrokerConfig.parse(base + "log.retention.ms=5\n").log.retentionMs == 5)
        #expect(try BrokerConfig.parse(base + "log.retention.ms=-1\n").log.retentionMs == -1)
        let overridden = try BrokerConfig.parse(base + "broker.id=1\n", overrides: ["broker.id": "7", "delete.topic.enable": "false"])
        #expect(overridden.brokerId == 7 && !overridden.deleteTopicEnable)
        #expect(overridden.zookeeperConnect?.chroot == "/kafka")
    }

    @Test func unknownKeysAreWarningsNotErrors() throws {
        let config = try BrokerConfig.parse("zookeeper.connect=z:2181\nfavourite.colour=blue\n")
        #expect(config.warnings == ["unknown configuration 'favourite.colour' is ignored"])
    }

    @Test(arguments: [
        ("broker.id=abc", "Invalid value 'abc' for configuration broker.id: an integer from -1 to 2147483647"),
        ("num.partitions=0", "Invalid value '0' for configuration num.partitions: an integer from 1 to 2147483647"),
        ("auto.create.topics.enable=yes", "Invalid value 'yes' for configuration auto.create.topics.enable: true or false"),
        ("listeners=192.168.1.1:9092", "Invalid value '192.168.1.1:9092' for configuration listeners: listeners as NAME://host:port, e.g. PLAINTEXT://192.168.10.114:9092"),
        ("port=99999", "Invalid value '99999' for configuration port: an integer from 1 to 65535"),
    ])
    func aBadValueIsOneLineNamingKeyValueAndWhatIsAllowed(line: String, message: String) {
        #expect(throws: BrokerConfigError.self) { try BrokerConfig.parse("zookeeper.connect=z:2181\n" + line) }
        do {
            _ = try BrokerConfig.parse("zookeeper.connect=z:2181\n" + line)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func zookeeperConnectIsRequiredAndValidated() {
        #expect(throws: BrokerConfigError(key: "zookeeper.connect", value: "", allowed: "required: the ZooKeeper ensemble, host:port[,host:port...][/chroot]")) {
            try BrokerConfig.parse("broker.id=1")
        }
        #expect(throws: BrokerConfigError.self) { try BrokerConfig.parse("zookeeper.connect=z:notaport") }
    }

    @Test func listenersAdvertisedListenersAndTheOldAdvertisedKeys() throws {
        let config = try BrokerConfig.parse("""
            zookeeper.connect=z:2181
            listeners=PLAINTEXT://0.0.0.0:9093,PLAINTEXT://[::1]:9094
            advertised.listeners=PLAINTEXT://broker1.example:9093
            """)
        #expect(config.listeners.map(\.description) == ["PLAINTEXT://0.0.0.0:9093", "PLAINTEXT://[::1]:9094"])
        #expect(config.effectiveAdvertisedListeners.map(\.description) == ["PLAINTEXT://broker1.example:9093"])
        let old = try BrokerConfig.parse("zookeeper.connect=z:2181\nhost.name=10.0.0.5\nport=9095\nadvertised.host.name=public.example\n")
        #expect(old.listeners.map(\.description) == ["PLAINTEXT://10.0.0.5:9095"])
        #expect(old.effectiveAdvertisedListeners.map(\.description) == ["PLAINTEXT://public.example:9095"])
    }
}

@Suite struct PropertiesFileTests {
    @Test func javaPropertiesSyntax() {
        let entries = PropertiesFile.parse("""
            ! a comment
            a = 1
            b:2
            c 3
            long = first,\\
                   second
            path=C:\\\\logs
            unicode=\\u00e9t\\u00e9
            """)
        #expect(entries.map { "\($0.key)=\($0.value)" } == ["a=1", "b=2", "c=3", "long=first,second", "path=C:\\logs", "unicode=été"])
    }
}

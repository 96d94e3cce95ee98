#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds since the epoch from the system clock: Kafka's timestamps (records, registrations, segments).
public func wallClockMillis() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

/// Test values for generated messages: every field the version carries is set to a non-default value, so a
/// round trip exercises every field. `nulls` sets every field that may be null at that version to null.
protocol SampleProviding {
    static func sample(version: Int16, nulls: Bool) -> Self
}

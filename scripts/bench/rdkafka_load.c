/*
 * A native librdkafka load generator for scripts/bench-broker.sh: the Python client tops out near 300k
 * records/s on one core, so it cannot measure a broker that is faster than that.
 *
 *   rdkafka_load produce <bootstrap> <topic> <records> <record-bytes> <acks>   prints records/s
 *   rdkafka_load consume <bootstrap> <topic> <records>                          prints records/s
 *   rdkafka_load latency <bootstrap> <topic> <records>                          prints p50 and p99 in ms
 *
 * One partition (0). Produce counts a record when its delivery report says it was stored; consume reads from
 * offset 0 until it has seen <records> records. Latency sends one record at a time (acks=1, no linger) to a
 * consumer already waiting at the log end, and times each from produce to receipt, one every 2 ms.
 * Any delivery error or a shortfall exits 1.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long delivered, failed;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    (void)opaque;
    if (message->err) {
        if (failed++ == 0) fprintf(stderr, "rdkafka_load: delivery failed: %s\n", rd_kafka_err2str(message->err));
    } else {
        delivered++;
    }
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdkafka_load: %s=%s: %s\n", key, value, error);
        exit(2);
    }
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char error[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, error, sizeof error);
    if (!rk) {
        fprintf(stderr, "rdkafka_load: %s\n", error);
        exit(2);
    }
    return rk;
}

static int produce(const char *bootstrap, const char *topic, long records, int size, const char *acks) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "acks", acks);
    set(conf, "linger.ms", "5");
    set(conf, "batch.size", "1000000");
    set(conf, "queue.buffering.max.messages", "2000000");
    set(conf, "queue.buffering.max.kbytes", "2000000");
    set(conf, "enable.idempotence", "false");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, conf);
    char *payload = malloc(size);
    memset(payload, 'x', size);
    double began = now();
    for (long i = 0; i < records; i++) {
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, size),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 1);
        }
        if ((i & 0xFFF) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120 * 1000);
    double elapsed = now() - began;
    rd_kafka_destroy(rk);
    free(payload);
    if (delivered != records || failed) {
        fprintf(stderr, "rdkafka_load: %ld of %ld delivered, %ld failed\n", delivered, records, failed);
        return 1;
    }
    printf("%.0f\n", records / elapsed);
    return 0;
}

static int consume(const char *bootstrap, const char *topic, long records) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", "rdkafka-load");
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.max.bytes", "52428800");
    set(conf, "max.partition.fetch.bytes", "10485760");
    set(conf, "queued.max.messages.kbytes", "1048576");
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, conf);
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, topic, 0)->offset = 0;
    rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *batch[10000];
    long received = 0;
    double began = now();
    double deadline = began + 120;
    while (received < records && now() < deadline) {
        ssize_t count = rd_kafka_consume_batch_queue(queue, 1000, batch, 10000);
        for (ssize_t i = 0; i < count; i++) {
            if (!batch[i]->err) received++;
            rd_kafka_message_destroy(batch[i]);
        }
    }
    double elapsed = now() - began;
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (received < records) {
        fprintf(stderr, "rdkafka_load: consumed %ld of %ld\n", received, records);
        return 1;
    }
    printf("%.0f\n", records / elapsed);
    return 0;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int latency(const char *bootstrap, const char *topic, long records) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "acks", "1");
    set(conf, "linger.ms", "0");
    set(conf, "enable.idempotence", "false");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *producer = client(RD_KAFKA_PRODUCER, conf);

    conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", "rdkafka-latency");
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.wait.max.ms", "100");
    set(conf, "fetch.min.bytes", "1");
    set(conf, "fetch.error.backoff.ms", "0");
    rd_kafka_t *consumer = client(RD_KAFKA_CONSUMER, conf);
    int64_t low, high;
    if (rd_kafka_query_watermark_offsets(consumer, topic, 0, &low, &high, 10000)) {
        fprintf(stderr, "rdkafka_load: cannot read the log end of %s\n", topic);
        return 1;
    }
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, topic, 0)->offset = high;
    rd_kafka_assign(consumer, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    // Warm up: the first records pay for connections and metadata.
    double *samples = calloc(records, sizeof *samples);
    long measured = 0;
    for (long i = -20; i < records; i++) {
        double sent = now();
        char payload[32];
        int length = snprintf(payload, sizeof payload, "%ld", i);
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, length),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        rd_kafka_poll(producer, 0);
        for (;;) {
            rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer, 1000);
            if (!message) {
                if (now() - sent > 10) {
                    fprintf(stderr, "rdkafka_load: record %ld never arrived\n", i);
                    return 1;
                }
                continue;
            }
            int ours = !message->err && message->len == (size_t)length && memcmp(message->payload, payload, length) == 0;
            rd_kafka_message_destroy(message);
            if (ours) break;
        }
        if (i >= 0) samples[measured++] = (now() - sent) * 1000;
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
    qsort(samples, measured, sizeof *samples, compare);
    printf("%.3f %.3f\n", samples[measured / 2], samples[(long)(measured * 0.99) - 1]);
    rd_kafka_flush(producer, 10000);
    rd_kafka_destroy(producer);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    free(samples);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "produce") == 0) return produce(argv[2], argv[3], atol(argv[4]), atoi(argv[5]), argv[6]);
    if (argc == 5 && strcmp(argv[1], "consume") == 0) return consume(argv[2], argv[3], atol(argv[4]));
    if (argc == 5 && strcmp(argv[1], "latency") == 0) return latency(argv[2], argv[3], atol(argv[4]));
    fprintf(stderr, "usage: rdkafka_load produce <bootstrap> <topic> <records> <record-bytes> <acks>\n"
                    "       rdkafka_load consume <bootstrap> <topic> <records>\n"
                    "       rdkafka_load latency <bootstrap> <topic> <records>\n");
    return 2;
}

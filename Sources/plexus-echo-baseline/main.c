/*
 * plexus-echo-baseline: the raw libuv C echo the Plexus benchmark is measured against.
 * Same framing as Plexus (u32 BE header length | u32 BE payload length | header | payload),
 * header length 0 here, one loop per process, replies coalesced per read callback.
 *
 *   plexus-echo-baseline server [--port P]          prints "listening <port>", echoes frames;
 *                                                   a frame with payload length 0xFFFFFFFF is
 *                                                   never sent; payloads of "sink" streams are
 *                                                   counted, not echoed (first payload byte 'S').
 *   plexus-echo-baseline client --port P --mode unary|stream|oneway|connections --size N
 *                               [--inflight K] [--seconds S] [--count C]
 * oneway: one frame per millisecond carrying its send time (uv_hrtime, CLOCK_MONOTONIC, the
 * same clock in every process); the server stamps its receive time into the echo, and the client
 * reports the one-way delays (server receive - client send) as p50/p99: the floor for a
 * one-way message between two idle libuv processes on this machine.
 * Results go to stdout as one line of key=value pairs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

typedef struct {
    uv_tcp_t tcp;
    char *in;
    size_t in_len, in_cap;
    uint64_t sunk_messages;
} conn_t;

static uv_loop_t *loop;
static char read_buffer[256 * 1024];

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static void alloc_cb(uv_handle_t *h, size_t s, uv_buf_t *b) {
    (void)h; (void)s;
    *b = uv_buf_init(read_buffer, sizeof read_buffer);
}

static void on_close(uv_handle_t *h) {
    conn_t *c = (conn_t *)h;
    free(c->in);
    free(c);
}

static void write_done(uv_write_t *req, int status) {
    (void)status;
    free(req->data);
    free(req);
}

static void append(conn_t *c, const char *data, size_t len) {
    if (c->in_len + len > c->in_cap) {
        c->in_cap = (c->in_len + len) * 2;
        c->in = realloc(c->in, c->in_cap);
    }
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
}

static uint32_t be32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) | ((uint32_t)u[2] << 8) | u[3];
}

static void put_be32(char *p, uint32_t v) {
    p[0] = (char)(v >> 24); p[1] = (char)(v >> 16); p[2] = (char)(v >> 8); p[3] = (char)v;
}

/* Server: echo every complete frame; all replies of one read go out in one uv_write. */
static void server_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    conn_t *c = (conn_t *)s;
    if (n < 0) { uv_close((uv_handle_t *)s, on_close); return; }
    append(c, b->base, (size_t)n);
    size_t off = 0, out_len = 0;
    char *out = NULL;
    while (c->in_len - off >= 8) {
        uint32_t hl = be32(c->in + off), pl = be32(c->in + off + 4);
        size_t total = 8 + hl + pl;
        if (c->in_len - off < total) break;
        int sink = pl > 0 && c->in[off + 8 + hl] == 'S';
        int end = pl > 0 && c->in[off + 8 + hl] == 'E';
        if (sink) {
            c->sunk_messages++;
        } else {
            if (end) {  /* end of a sink stream: answer with the count */
                char reply[16];
                put_be32(reply, 0); put_be32(reply + 4, 8);
                memcpy(reply + 8, &c->sunk_messages, 8);
                out = realloc(out, out_len + 16);
                memcpy(out + out_len, reply, 16);
                out_len += 16;
                c->sunk_messages = 0;
            } else {
                out = realloc(out, out_len + total);
                memcpy(out + out_len, c->in + off, total);
                if (pl >= 24 && c->in[off + 8 + hl] == 'L') {  /* one-way probe: stamp receive time */
                    uint64_t now = uv_hrtime();
                    memcpy(out + out_len + 8 + hl + 16, &now, 8);
                }
                out_len += total;
            }
        }
        off += total;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (out_len) {
        uv_write_t *req = malloc(sizeof *req);
        req->data = out;
        uv_buf_t buf = uv_buf_init(out, (unsigned)out_len);
        uv_write(req, s, &buf, 1, write_done);
    } else {
        free(out);
    }
}

static void on_connection(uv_stream_t *server, int status) {
    if (status < 0) return;
    conn_t *c = calloc(1, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
        uv_tcp_nodelay(&c->tcp, 1);
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, server_read);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_close);
    }
}

static void stdin_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    (void)s; (void)b;
    if (n < 0) {  /* parent closed stdin: report CPU and stop */
        printf("server cpu_s=%.6f\n", cpu_seconds());
        fflush(stdout);
        exit(0);
    }
}

static int run_server(int port) {
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &addr);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) || uv_listen((uv_stream_t *)&server, 1024, on_connection)) {
        fprintf(stderr, "cannot listen on port %d\n", port);
        return 1;
    }
    struct sockaddr_storage name;
    int len = sizeof name;
    uv_tcp_getsockname(&server, (struct sockaddr *)&name, &len);
    printf("listening %d\n", ntohs(((struct sockaddr_in *)&name)->sin_port));
    fflush(stdout);
    uv_pipe_t in;
    uv_pipe_init(loop, &in, 0);
    uv_pipe_open(&in, 0);
    uv_read_start((uv_stream_t *)&in, alloc_cb, stdin_read);
    return uv_run(loop, UV_RUN_DEFAULT);
}

/* ---- client ---- */
static const char *mode = "unary";
static size_t size = 64;
static int inflight = 1, seconds = 3, count = 1000;
static uint64_t done_calls, started_ns, deadline_ns, *latencies, latency_count, latency_cap;
static char *frame;
static size_t frame_len;
static conn_t *client;
static uint64_t *send_times;  /* per in-flight slot, FIFO */
static size_t send_head, send_tail;

static void send_frames(int k) {
    size_t total = frame_len * (size_t)k;
    char *out = malloc(total);
    for (int i = 0; i < k; i++) {
        memcpy(out + frame_len * (size_t)i, frame, frame_len);
        send_times[send_tail++ % (size_t)inflight] = uv_hrtime();
    }
    uv_write_t *req = malloc(sizeof *req);
    req->data = out;
    uv_buf_t buf = uv_buf_init(out, (unsigned)total);
    uv_write(req, (uv_stream_t *)&client->tcp, &buf, 1, write_done);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void finish_unary(void) {
    double elapsed = (uv_hrtime() - started_ns) / 1e9;
    qsort(latencies, latency_count, sizeof *latencies, cmp_u64);
    double p50 = latency_count ? latencies[latency_count / 2] / 1e3 : 0;
    double p99 = latency_count ? latencies[latency_count * 99 / 100] / 1e3 : 0;
    printf("calls=%llu seconds=%.3f rate=%.1f p50_us=%.1f p99_us=%.1f cpu_s=%.6f\n", (unsigned long long)done_calls,
           elapsed, done_calls / elapsed, p50, p99, cpu_seconds());
    fflush(stdout);
    exit(0);
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    conn_t *c = (conn_t *)s;
    if (n < 0) { fprintf(stderr, "connection lost\n"); exit(1); }
    append(c, b->base, (size_t)n);
    size_t off = 0;
    int replies = 0;
    while (c->in_len - off >= 8) {
        uint32_t hl = be32(c->in + off), pl = be32(c->in + off + 4);
        size_t total = 8 + hl + pl;
        if (c->in_len - off < total) break;
        if (strcmp(mode, "stream") == 0) {
            uint64_t sunk;
            memcpy(&sunk, c->in + off + 8 + hl, 8);
            double elapsed = (uv_hrtime() - started_ns) / 1e9;
            printf("messages=%llu seconds=%.3f rate=%.1f mbps=%.1f cpu_s=%.6f\n", (unsigned long long)sunk, elapsed,
                   sunk / elapsed, sunk * (double)size / elapsed / 1e6, cpu_seconds());
            fflush(stdout);
            exit(0);
        }
        uint64_t now = uv_hrtime();
        uint64_t t = send_times[send_head++ % (size_t)inflight];
        if (!strcmp(mode, "oneway")) {  /* delay = server receive - client send, from the echo */
            memcpy(&t, c->in + off + 8 + hl + 8, 8);
            memcpy(&now, c->in + off + 8 + hl + 16, 8);
        }
        if (latency_count == latency_cap) {
            latency_cap = latency_cap ? latency_cap * 2 : 1 << 16;
            latencies = realloc(latencies, latency_cap * sizeof *latencies);
        }
        latencies[latency_count++] = now - t;
        done_calls++;
        replies++;
        off += total;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    if (uv_hrtime() >= deadline_ns) {
        if (send_head == send_tail) finish_unary();
        return;
    }
    if (replies && strcmp(mode, "oneway")) send_frames(replies);
}

/* One-way mode: a timer sends one stamped frame per millisecond. */
static uv_timer_t pace_timer;
static void pace(uv_timer_t *t) {
    if (uv_hrtime() >= deadline_ns) {
        uv_timer_stop(t);
        if (send_head == send_tail) finish_unary();
        return;
    }
    if (send_tail - send_head >= (size_t)inflight) return;
    uint64_t now = uv_hrtime();
    memcpy(frame + 8 + 8, &now, 8);
    send_frames(1);
}

/* Stream mode: write as fast as the socket takes it, keeping at most 4 MiB queued. */
static void pump(void);
static void pump_done(uv_write_t *req, int status) {
    write_done(req, status);
    pump();
}

static void pump(void) {
    uv_stream_t *s = (uv_stream_t *)&client->tcp;
    if (uv_hrtime() >= deadline_ns) {
        static int ended;
        if (!ended) {
            ended = 1;
            char end[9];
            put_be32(end, 0); put_be32(end + 4, 1); end[8] = 'E';
            char *copy = malloc(9);
            memcpy(copy, end, 9);
            uv_write_t *req = malloc(sizeof *req);
            req->data = copy;
            uv_buf_t buf = uv_buf_init(copy, 9);
            uv_write(req, s, &buf, 1, write_done);
        }
        return;
    }
    while (uv_stream_get_write_queue_size(s) < 4 * 1024 * 1024) {
        size_t batch = size >= 65536 ? 1 : (256 * 1024) / frame_len;
        char *out = malloc(frame_len * batch);
        for (size_t i = 0; i < batch; i++) memcpy(out + frame_len * i, frame, frame_len);
        uv_write_t *req = malloc(sizeof *req);
        req->data = out;
        uv_buf_t buf = uv_buf_init(out, (unsigned)(frame_len * batch));
        uv_write(req, s, &buf, 1, pump_done);
        if (uv_stream_get_write_queue_size(s) > 0) break;
    }
}

static uv_connect_t connect_req;
static int connections_open;
static conn_t **idle;

static void on_connect(uv_connect_t *req, int status) {
    (void)req;
    if (status < 0) { fprintf(stderr, "connect failed: %s\n", uv_strerror(status)); exit(1); }
    uv_tcp_nodelay(&client->tcp, 1);
    uv_read_start((uv_stream_t *)&client->tcp, alloc_cb, client_read);
    started_ns = uv_hrtime();
    deadline_ns = started_ns + (uint64_t)seconds * 1000000000ull;
    if (strcmp(mode, "stream") == 0) pump();
    else if (strcmp(mode, "oneway") == 0) {
        uv_timer_init(loop, &pace_timer);
        uv_timer_start(&pace_timer, pace, 1, 1);
    } else send_frames(inflight);
}

static void idle_connected(uv_connect_t *req, int status) {
    free(req);
    if (status < 0) { fprintf(stderr, "connect failed\n"); exit(1); }
    if (++connections_open == count) {
        printf("connections=%d\n", connections_open);
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    loop = uv_default_loop();
    int port = 0;
    if (argc < 2) { fprintf(stderr, "usage: %s server|client [options]\n", argv[0]); return 2; }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--size")) size = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--inflight")) inflight = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--count")) count = atoi(argv[i + 1]);
    }
    if (!strcmp(argv[1], "server")) return run_server(port);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    if (!strcmp(mode, "connections")) {
        idle = calloc((size_t)count, sizeof *idle);
        for (int i = 0; i < count; i++) {
            idle[i] = calloc(1, sizeof(conn_t));
            uv_tcp_init(loop, &idle[i]->tcp);
            uv_connect_t *req = malloc(sizeof *req);
            uv_tcp_connect(req, &idle[i]->tcp, (const struct sockaddr *)&addr, idle_connected);
        }
        uv_pipe_t in;  /* stay connected until stdin closes */
        uv_pipe_init(loop, &in, 0);
        uv_pipe_open(&in, 0);
        uv_read_start((uv_stream_t *)&in, alloc_cb, stdin_read);
        return uv_run(loop, UV_RUN_DEFAULT);
    }
    frame_len = 8 + size;
    frame = calloc(1, frame_len);
    put_be32(frame, 0); put_be32(frame + 4, (uint32_t)size);
    if (!strcmp(mode, "stream")) frame[8] = 'S';
    if (!strcmp(mode, "oneway")) {
        if (size < 24) { fprintf(stderr, "oneway needs --size 24 or more\n"); return 2; }
        frame[8] = 'L';
        if (inflight < 64) inflight = 64;  /* the pace, not the replies, sets the rate */
    }
    send_times = calloc((size_t)inflight, sizeof *send_times);
    client = calloc(1, sizeof *client);
    uv_tcp_init(loop, &client->tcp);
    uv_tcp_connect(&connect_req, &client->tcp, (const struct sockaddr *)&addr, on_connect);
    return uv_run(loop, UV_RUN_DEFAULT);
}

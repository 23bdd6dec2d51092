/* A minimal `provided` runtime for benchmarks: it answers every invocation with the event's own
 * bytes, so the measured time is lambdad's (Invoke API -> Runtime API -> back), not a language
 * runtime's. One keep-alive connection to AWS_LAMBDA_RUNTIME_API (reopened if the server closes
 * it); plain POSIX sockets; bodies framed by Content-Length or chunked encoding.
 *
 * An event with a "sleep_ms" member ({"sleep_ms":5000}) is held that long and answered with
 * {"pid":<this process>,"sleep_ms":<n>} instead of the echo: concurrent invokes of that kind need
 * one environment each, and the pids tell the environments apart (bench/run.sh's scaling).
 *
 * With AWS_LAMBDA_MAX_CONCURRENCY=N (managed instances, docs/decisions/028) it serves N invokes at
 * once: N processes, each with its own connection and /next loop, as AWS's Python client does.
 *
 * Named anything but `bootstrap` (a layer's extensions/echo-extension), it is an external
 * extension instead (docs/decisions/024): it registers for INVOKE under its file name and asks
 * /event/next again as soon as each event arrives, so that bench/extensions.sh measures what an
 * extension costs lambdad's invokes, not what the extension does. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum { kMaxHeaderBytes = 64 * 1024, kMaxRequestIdBytes = 128 };

struct Buffer {
  char *data;
  size_t len;
  size_t cap;
};

struct Connection {
  int fd;
  struct Buffer in; /* bytes received but not yet consumed */
};

struct Response {
  int status;
  int close_after;
  char request_id[kMaxRequestIdBytes];
  char extension_id[kMaxRequestIdBytes];
  struct Buffer body;
};

static const char *g_host;
static const char *g_port;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("echo_bootstrap: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void buffer_reserve(struct Buffer *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra) cap *= 2;
  char *data = realloc(b->data, cap);
  if (!data) die("out of memory (%zu bytes)", cap);
  b->data = data;
  b->cap = cap;
}

static void buffer_append(struct Buffer *b, const char *data, size_t len) {
  buffer_reserve(b, len);
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void buffer_consume(struct Buffer *b, size_t len) {
  memmove(b->data, b->data + len, b->len - len);
  b->len -= len;
}

static void conn_open(struct Connection *c) {
  struct addrinfo hints;
  struct addrinfo *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(g_host, g_port, &hints, &res);
  if (rc != 0) die("getaddrinfo(%s:%s): %s", g_host, g_port, gai_strerror(rc));
  int fd = -1;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) die("cannot connect to %s:%s: %s", g_host, g_port, strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->fd = fd;
  c->in.len = 0;
}

static void conn_close(struct Connection *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->in.len = 0;
}

/* Reads more bytes into c->in; returns 0 on EOF. */
static int conn_fill(struct Connection *c) {
  buffer_reserve(&c->in, 64 * 1024);
  for (;;) {
    ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
    if (n > 0) {
      c->in.len += (size_t)n;
      return 1;
    }
    if (n == 0) return 0;
    if (errno != EINTR) return 0;
  }
}

static int send_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    data += n;
    len -= (size_t)n;
  }
  return 1;
}

/* Ensures at least `want` buffered bytes; returns 0 if the peer closed first. */
static int conn_need(struct Connection *c, size_t want) {
  while (c->in.len < want) {
    if (!conn_fill(c)) return 0;
  }
  return 1;
}

/* Finds CRLF in the buffer from `from`; returns its offset or -1 (reading more as needed). */
static long conn_find_crlf(struct Connection *c, size_t from) {
  for (;;) {
    for (size_t i = from; i + 1 < c->in.len; ++i) {
      if (c->in.data[i] == '\r' && c->in.data[i + 1] == '\n') return (long)i;
    }
    if (c->in.len > kMaxHeaderBytes + from) return -1;
    if (!conn_fill(c)) return -1;
  }
}

static int header_is(const char *line, size_t len, const char *name, const char **value) {
  size_t n = strlen(name);
  if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':') return 0;
  const char *v = line + n + 1;
  while (*v == ' ' || *v == '\t') ++v;
  *value = v;
  return 1;
}

/* Reads one HTTP/1.1 response. Returns 0 if the connection broke. */
static int read_response(struct Connection *c, struct Response *r) {
  r->status = 0;
  r->close_after = 0;
  r->request_id[0] = '\0';
  r->extension_id[0] = '\0';
  r->body.len = 0;
  long content_length = -1;
  int chunked = 0;

  long eol = conn_find_crlf(c, 0);
  if (eol < 0) return 0;
  c->in.data[eol] = '\0';
  if (sscanf(c->in.data, "HTTP/1.%*d %d", &r->status) != 1) die("bad status line: %s", c->in.data);
  buffer_consume(&c->in, (size_t)eol + 2);

  for (;;) {
    eol = conn_find_crlf(c, 0);
    if (eol < 0) return 0;
    if (eol == 0) {
      buffer_consume(&c->in, 2);
      break;
    }
    char *line = c->in.data;
    line[eol] = '\0';
    const char *v;
    if (header_is(line, (size_t)eol, "Content-Length", &v)) {
      content_length = strtol(v, NULL, 10);
    } else if (header_is(line, (size_t)eol, "Transfer-Encoding", &v)) {
      chunked = strstr(v, "chunked") != NULL;
    } else if (header_is(line, (size_t)eol, "Connection", &v)) {
      r->close_after = strncasecmp(v, "close", 5) == 0;
    } else if (header_is(line, (size_t)eol, "Lambda-Runtime-Aws-Request-Id", &v)) {
      snprintf(r->request_id, sizeof r->request_id, "%s", v);
    } else if (header_is(line, (size_t)eol, "Lambda-Extension-Identifier", &v)) {
      snprintf(r->extension_id, sizeof r->extension_id, "%s", v);
    }
    buffer_consume(&c->in, (size_t)eol + 2);
  }

  if (chunked) {
    for (;;) {
      eol = conn_find_crlf(c, 0);
      if (eol < 0) return 0;
      c->in.data[eol] = '\0';
      size_t size = (size_t)strtoul(c->in.data, NULL, 16);
      buffer_consume(&c->in, (size_t)eol + 2);
      if (size == 0) {
        /* trailers, then an empty line */
        for (;;) {
          eol = conn_find_crlf(c, 0);
          if (eol < 0) return 0;
          buffer_consume(&c->in, (size_t)eol + 2);
          if (eol == 0) return 1;
        }
      }
      if (!conn_need(c, size + 2)) return 0;
      buffer_append(&r->body, c->in.data, size);
      buffer_consume(&c->in, size + 2);
    }
  }
  if (content_length < 0) content_length = 0;
  if (!conn_need(c, (size_t)content_length)) return 0;
  buffer_append(&r->body, c->in.data, (size_t)content_length);
  buffer_consume(&c->in, (size_t)content_length);
  return 1;
}

/* Sends a request and reads its response; reopens the connection once if it went stale. */
static void exchange(struct Connection *c, const char *head, size_t head_len, const char *body,
                     size_t body_len, struct Response *r, int may_retry) {
  for (int attempt = 0;; ++attempt) {
    if (c->fd < 0) conn_open(c);
    if (send_all(c->fd, head, head_len) && send_all(c->fd, body, body_len) && read_response(c, r)) {
      if (r->close_after) conn_close(c);
      return;
    }
    conn_close(c);
    if (!may_retry || attempt > 0) die("connection to the Runtime API failed");
  }
}

/* The value of a "sleep_ms" member in the event, or -1 without one. Not a JSON parser: the first
 * occurrence of the key anywhere, followed by optional blanks, a colon and digits. */
static long sleep_request_ms(const struct Buffer *body) {
  static const char key[] = "\"sleep_ms\"";
  const size_t key_len = sizeof key - 1;
  if (!body->data || body->len < key_len) return -1;
  for (size_t i = 0; i + key_len <= body->len; ++i) {
    if (body->data[i] != '"' || memcmp(body->data + i, key, key_len) != 0) continue;
    size_t j = i + key_len;
    while (j < body->len && (body->data[j] == ' ' || body->data[j] == '\t')) ++j;
    if (j >= body->len || body->data[j] != ':') return -1;
    ++j;
    while (j < body->len && (body->data[j] == ' ' || body->data[j] == '\t')) ++j;
    long ms = 0;
    int digits = 0;
    for (; j < body->len && body->data[j] >= '0' && body->data[j] <= '9' && digits < 9; ++j, ++digits) {
      ms = ms * 10 + (body->data[j] - '0');
    }
    return digits ? ms : -1;
  }
  return -1;
}

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* The external extension's loop: register, then /event/next for ever. */
static int run_extension(const char *api, const char *name) {
  struct Connection conn = {.fd = -1, .in = {0}};
  struct Response r = {0};
  char head[512];
  static const char events[] = "{\"events\":[\"INVOKE\"]}";
  int n = snprintf(head, sizeof head,
                   "POST /2020-01-01/extension/register HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Name: %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   api, name, sizeof events - 1);
  if (n < 0 || (size_t)n >= sizeof head) die("extension name too long");
  exchange(&conn, head, (size_t)n, events, sizeof events - 1, &r, 0);
  if (r.status != 200 || !r.extension_id[0]) die("/extension/register returned %d", r.status);
  n = snprintf(head, sizeof head,
               "GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Identifier: %s\r\n\r\n",
               api, r.extension_id);
  if (n < 0 || (size_t)n >= sizeof head) die("extension identifier too long");
  for (;;) {
    exchange(&conn, head, (size_t)n, "", 0, &r, 1);
    if (r.status != 200) die("/extension/event/next returned %d", r.status);
  }
}

int main(int argc, char **argv) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api || !*api) die("AWS_LAMBDA_RUNTIME_API is not set");
  char *host = strdup(api);
  if (!host) die("out of memory");
  char *colon = strrchr(host, ':');
  if (!colon) die("AWS_LAMBDA_RUNTIME_API must be host:port, got %s", api);
  *colon = '\0';
  g_host = host;
  g_port = colon + 1;
  // --start-only: exits where the first /next would be sent, so that bench/run.sh can time the
  // runtime's own start (exec, loading, its setup) apart from lambdad's.
  if (argc > 1 && strcmp(argv[1], "--start-only") == 0) return 0;
  const char *self = strrchr(argv[0], '/');
  self = self ? self + 1 : argv[0];
  if (strcmp(self, "bootstrap") != 0 && strncmp(self, "lambdad_echo", 12) != 0) return run_extension(api, self);

  const char *slots = getenv("AWS_LAMBDA_MAX_CONCURRENCY");
  long workers = slots && *slots ? strtol(slots, NULL, 10) : 1;
  if (workers < 1 || workers > 1600) die("AWS_LAMBDA_MAX_CONCURRENCY must be 1 to 1600, got %s", slots);
  for (long w = 1; w < workers; ++w) {
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) break; /* a worker: the loop below, as the first process is */
  }

  struct Connection conn = {.fd = -1, .in = {0}};
  struct Response next = {0};
  struct Response posted = {0};
  char head[512];
  char reply[96];

  for (;;) {
    int n = snprintf(head, sizeof head,
                     "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
    exchange(&conn, head, (size_t)n, "", 0, &next, 1);
    if (next.status != 200) die("/next returned %d", next.status);
    if (!next.request_id[0]) die("/next without Lambda-Runtime-Aws-Request-Id");

    const char *body = next.body.data ? next.body.data : "";
    size_t body_len = next.body.len;
    long ms = sleep_request_ms(&next.body);
    if (ms >= 0) {
      sleep_ms(ms);
      int m = snprintf(reply, sizeof reply, "{\"pid\":%ld,\"sleep_ms\":%ld}", (long)getpid(), ms);
      if (m < 0 || (size_t)m >= sizeof reply) die("reply too long");
      body = reply;
      body_len = (size_t)m;
    }

    n = snprintf(head, sizeof head,
                 "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 next.request_id, api, body_len);
    if (n < 0 || (size_t)n >= sizeof head) die("request id too long");
    exchange(&conn, head, (size_t)n, body, body_len, &posted, 0);
    if (posted.status != 202) die("/response returned %d", posted.status);
  }
}

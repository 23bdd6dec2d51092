/* A burst client for bench/run.sh: opens N connections to one URL first, then sends one POST on
 * each back to back, so all N requests are in flight together (unlike N curl processes, whose
 * spawn cost spreads the requests over seconds). Single-threaded, poll(2), plain POSIX sockets.
 *
 *   lambdad_burst [-n N] [-d BODY] [-t TIMEOUT_S] http://HOST:PORT/PATH
 *
 * stdout: one line per request, in request order: "<status> <latency ms> <body>", status 0 when
 * the request failed (connect error, reset, timeout) and the body then "-"; newlines in a body
 * become spaces. stderr: one summary line of the phases (see print_summary).
 * Exits 0 when it ran, whatever the statuses; 2 on bad usage; 1 when it could not start. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum State { kConnecting, kSending, kReading, kDone };

struct Request {
  int fd;
  enum State state;
  size_t sent;      /* bytes of the request written */
  char *in;         /* response bytes received */
  size_t in_len;
  size_t in_cap;
  int status;       /* HTTP status; 0 = failed */
  double sent_at;   /* ms since start, when the last request byte went out */
  double done_at;   /* ms since start, when the response was complete */
};

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("lambdad_burst: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static double g_t0;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6 - g_t0;
}

static void usage(void) {
  fputs("usage: lambdad_burst [-n N] [-d BODY] [-t TIMEOUT_S] http://HOST:PORT/PATH\n", stderr);
  exit(2);
}

static void fail_request(struct Request *r) {
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  r->status = 0;
  r->state = kDone;
}

/* Returns 1 when the buffered bytes hold a complete response (status set), 0 when more are
 * needed. eof: the peer closed (a response without Content-Length ends there). */
static int response_complete(struct Request *r, int eof, size_t *body_at, size_t *body_len) {
  const char *end = NULL;
  for (size_t i = 0; i + 3 < r->in_len; ++i) {
    if (memcmp(r->in + i, "\r\n\r\n", 4) == 0) {
      end = r->in + i;
      break;
    }
  }
  if (!end) return 0;
  size_t head_len = (size_t)(end - r->in) + 4;
  int status = 0;
  r->status = 0;
  if (sscanf(r->in, "HTTP/1.%*d %d", &status) != 1) return eof;
  long content_length = -1;
  for (const char *line = strstr(r->in, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, "Content-Length:", 15) == 0) content_length = strtol(line + 17, NULL, 10);
  }
  if (content_length < 0) {
    if (!eof) return 0;
    content_length = (long)(r->in_len - head_len);
  }
  if (r->in_len < head_len + (size_t)content_length) return eof;
  r->status = status;
  *body_at = head_len;
  *body_len = (size_t)content_length;
  return 1;
}

int main(int argc, char **argv) {
  long n = 200;
  const char *body = "{}";
  long timeout_s = 120;
  int opt;
  while ((opt = getopt(argc, argv, "n:d:t:")) != -1) {
    switch (opt) {
      case 'n': n = strtol(optarg, NULL, 10); break;
      case 'd': body = optarg; break;
      case 't': timeout_s = strtol(optarg, NULL, 10); break;
      default: usage();
    }
  }
  if (optind + 1 != argc || n < 1 || n > 100000 || timeout_s < 1) usage();
  const char *url = argv[optind];
  if (strncmp(url, "http://", 7) != 0) usage();
  char host[256];
  char port[16] = "80";
  const char *hp = url + 7;
  const char *path = strchr(hp, '/');
  if (!path) path = "/";
  size_t hp_len = (size_t)(path - hp);
  if (hp_len == 0 || hp_len >= sizeof host) usage();
  memcpy(host, hp, hp_len);
  host[hp_len] = '\0';
  char *colon = strrchr(host, ':');
  if (colon) {
    snprintf(port, sizeof port, "%s", colon + 1);
    *colon = '\0';
  }

  /* Room for n sockets. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)n + 64 ? (rlim_t)n + 64 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  struct addrinfo hints;
  struct addrinfo *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &ai);
  if (rc != 0) die("getaddrinfo(%s:%s): %s", host, port, gai_strerror(rc));

  size_t body_len = strlen(body);
  char *request = NULL;
  int req_len = 0;
  {
#define REQUEST_FORMAT                                                                   \
  "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n" \
  "Connection: close\r\n\r\n%s"
    req_len = snprintf(NULL, 0, REQUEST_FORMAT, path, host, port, body_len, body);
    if (req_len < 0) die("bad request");
    request = malloc((size_t)req_len + 1);
    if (!request) die("out of memory");
    snprintf(request, (size_t)req_len + 1, REQUEST_FORMAT, path, host, port, body_len, body);
  }

  size_t count = (size_t)n;
  struct Request *reqs = calloc(count, sizeof *reqs);
  struct pollfd *pfds = calloc(count, sizeof *pfds);
  if (!reqs || !pfds) die("out of memory");

  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  g_t0 = (double)t0.tv_sec * 1000.0 + (double)t0.tv_nsec / 1e6;

  /* Phase 1: every connection established before any request goes out. */
  size_t connecting = 0;
  for (size_t i = 0; i < count; ++i) {
    struct Request *r = &reqs[i];
    r->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (r->fd < 0) die("socket: %s (%zu open)", strerror(errno), i);
    int one = 1;
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    r->state = kConnecting;
    if (connect(r->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      r->state = kSending;
    } else if (errno == EINPROGRESS) {
      ++connecting;
    } else {
      fail_request(r);
    }
  }
  freeaddrinfo(ai);
  const double deadline = (double)timeout_s * 1000.0;
  while (connecting > 0 && now_ms() < deadline) {
    size_t m = 0;
    for (size_t i = 0; i < count; ++i) {
      if (reqs[i].state != kConnecting) continue;
      pfds[m].fd = reqs[i].fd;
      pfds[m].events = POLLOUT;
      pfds[m].revents = 0;
      ++m;
    }
    if (poll(pfds, m, 100) < 0 && errno != EINTR) die("poll: %s", strerror(errno));
    for (size_t i = 0, k = 0; i < count; ++i) {
      if (reqs[i].state != kConnecting) continue;
      short ev = pfds[k++].revents;
      if (!ev) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(reqs[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
      --connecting;
      if (err) {
        fail_request(&reqs[i]);
      } else {
        reqs[i].state = kSending;
      }
    }
  }
  const double connected_at = now_ms();
  size_t connected = 0;
  for (size_t i = 0; i < count; ++i) {
    if (reqs[i].state == kConnecting) fail_request(&reqs[i]);
    if (reqs[i].state == kSending) ++connected;
  }

  /* Phase 2: all requests out, back to back (a small request fits one send). */
  double first_sent = -1;
  double last_sent = -1;
  for (size_t i = 0; i < count; ++i) {
    struct Request *r = &reqs[i];
    if (r->state != kSending) continue;
    ssize_t w = send(r->fd, request, (size_t)req_len, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail_request(r);
      continue;
    }
    if (w > 0) r->sent = (size_t)w;
    if (r->sent == (size_t)req_len) {
      r->state = kReading;
      r->sent_at = now_ms();
      if (first_sent < 0) first_sent = r->sent_at;
      last_sent = r->sent_at;
    }
  }

  /* Phase 3: finish partial sends, collect the responses. */
  size_t open = 0;
  for (size_t i = 0; i < count; ++i) open += reqs[i].state == kSending || reqs[i].state == kReading;
  while (open > 0) {
    double left = deadline - now_ms();
    if (left <= 0) break;
    size_t m = 0;
    for (size_t i = 0; i < count; ++i) {
      if (reqs[i].state != kSending && reqs[i].state != kReading) continue;
      pfds[m].fd = reqs[i].fd;
      pfds[m].events = reqs[i].state == kSending ? POLLOUT : POLLIN;
      pfds[m].revents = 0;
      ++m;
    }
    int wait = left > 1000 ? 1000 : (int)left + 1;
    if (poll(pfds, m, wait) < 0 && errno != EINTR) die("poll: %s", strerror(errno));
    for (size_t i = 0, k = 0; i < count; ++i) {
      struct Request *r = &reqs[i];
      if (r->state != kSending && r->state != kReading) continue;
      short ev = pfds[k++].revents;
      if (!ev) continue;
      if (r->state == kSending) {
        ssize_t w = send(r->fd, request + r->sent, (size_t)req_len - r->sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          fail_request(r);
          --open;
          continue;
        }
        if (w > 0) r->sent += (size_t)w;
        if (r->sent == (size_t)req_len) {
          r->state = kReading;
          r->sent_at = now_ms();
          if (first_sent < 0) first_sent = r->sent_at;
          last_sent = r->sent_at;
        }
        continue;
      }
      if (r->in_cap - r->in_len < 4096) {
        size_t cap = r->in_cap ? r->in_cap * 2 : 8192;
        char *p = realloc(r->in, cap + 1);
        if (!p) die("out of memory");
        r->in = p;
        r->in_cap = cap;
      }
      ssize_t got = recv(r->fd, r->in + r->in_len, r->in_cap - r->in_len, 0);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      int eof = got <= 0;
      if (got > 0) r->in_len += (size_t)got;
      r->in[r->in_len] = '\0';
      size_t at = 0;
      size_t len = 0;
      if (response_complete(r, eof, &at, &len)) {
        r->done_at = now_ms();
        close(r->fd);
        r->fd = -1;
        r->state = kDone;
        /* keep only the body, NUL-terminated */
        if (r->status) {
          memmove(r->in, r->in + at, len);
          r->in_len = len;
          r->in[len] = '\0';
        }
        --open;
      } else if (eof) {
        fail_request(r);
        --open;
      }
    }
  }
  const double end = now_ms();

  size_t answered = 0;
  for (size_t i = 0; i < count; ++i) {
    struct Request *r = &reqs[i];
    if (r->state != kDone) fail_request(r); /* timed out */
    if (r->status) {
      ++answered;
      for (size_t j = 0; j < r->in_len; ++j) {
        if (r->in[j] == '\n' || r->in[j] == '\r') r->in[j] = ' ';
      }
      printf("%d %.1f %s\n", r->status, r->done_at - r->sent_at, r->in_len ? r->in : "-");
    } else {
      printf("0 %.1f -\n", (r->sent_at > 0 ? end - r->sent_at : 0.0));
    }
  }
  fprintf(stderr,
          "connections: %zu/%zu in %.1f ms; requests sent within %.1f ms of each other; "
          "%zu answered, last %.1f ms after the first request went out\n",
          connected, count, connected_at, first_sent >= 0 ? last_sent - first_sent : 0.0, answered,
          first_sent >= 0 ? end - first_sent : 0.0);
  return 0;
}

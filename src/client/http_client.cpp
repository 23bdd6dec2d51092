#include "lambdad/client/http_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <regex>

namespace lambdad::client {
namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

Error failure(std::string message) { return Error{ErrorKind::kInternal, {}, std::move(message)}; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

}  // namespace

Result<HttpEndpoint> parse_endpoint(const std::string& url) {
  static const std::regex kUrl(R"(http://([^/:]+)(?::(\d{1,5}))?/?)");
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) {
    return Error{ErrorKind::kInvalidInput, {}, fmt::format("'{}' is not http://HOST:PORT", url)};
  }
  HttpEndpoint e;
  e.host = m[1];
  e.port = m[2].matched ? m[2].str() : "80";
  e.url = url.ends_with('/') ? url.substr(0, url.size() - 1) : url;
  return e;
}

std::string encode_path_segment(std::string_view segment) {
  std::string out;
  for (char ch : segment) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

Status HttpClient::connect(Deadline deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(endpoint_.host.c_str(), endpoint_.port.c_str(), &hints, &found); rc != 0 || !found) {
    return failure(fmt::format("cannot resolve {}: {}", endpoint_.host, ::gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    process::UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd.valid()) {
      last_error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd.get(), a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd.get(), POLLOUT, 0};
      rc = ::poll(&p, 1, remaining_ms(deadline));
      int err = ETIMEDOUT;
      socklen_t len = sizeof err;
      if (rc == 1) ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_error = std::strerror(err);
        continue;
      }
      rc = 0;
    }
    if (rc != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    fd_ = std::move(fd);
    buffer_.clear();
    ::freeaddrinfo(found);
    return Ok{};
  }
  ::freeaddrinfo(found);
  return failure(fmt::format("cannot connect to {}: {}", endpoint_.url, last_error));
}

Status HttpClient::send_all(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    const auto n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return failure("timed out sending the request");
      continue;
    }
    return failure(fmt::format("cannot send the request: {}", std::strerror(errno)));
  }
  return Ok{};
}

Result<bool> HttpClient::read_some(Deadline deadline) {
  char buf[16384];
  for (;;) {
    const auto n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      buffer_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return failure(fmt::format("cannot read the response: {}", std::strerror(errno)));
    }
    pollfd p{fd_.get(), POLLIN, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc == 0) return failure("no response in time");
    if (rc < 0 && errno != EINTR) return failure(fmt::format("cannot wait for the response: {}", std::strerror(errno)));
  }
}

Result<std::string> HttpClient::read_chunked(Deadline deadline) {
  std::string body;
  std::size_t at = 0;
  for (;;) {
    std::size_t eol;
    while ((eol = buffer_.find("\r\n", at)) == std::string::npos) {
      auto more = read_some(deadline);
      if (!more) return more.error();
      if (!*more) return failure("the connection closed inside a chunked body");
    }
    std::string_view size_line(buffer_.data() + at, eol - at);
    size_line = size_line.substr(0, size_line.find(';'));
    std::size_t size = 0;
    auto [p, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
    if (ec != std::errc{}) return failure("a malformed chunk size in the response");
    at = eol + 2;
    if (size == 0) {
      // Trailers (none expected), then the final CRLF.
      while ((eol = buffer_.find("\r\n", at)) == std::string::npos || eol != at) {
        if (eol != std::string::npos) {
          at = eol + 2;
          continue;
        }
        auto more = read_some(deadline);
        if (!more) return more.error();
        if (!*more) return failure("the connection closed inside a chunked body");
      }
      buffer_.erase(0, eol + 2);
      return body;
    }
    while (buffer_.size() < at + size + 2) {
      auto more = read_some(deadline);
      if (!more) return more.error();
      if (!*more) return failure("the connection closed inside a chunked body");
    }
    body.append(buffer_, at, size);
    at += size + 2;
  }
}

Result<HttpResponse> HttpClient::read_response(std::string_view method, Deadline deadline, bool& keep_alive) {
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > kMaxHeaderBytes) return failure("the response's header is too large");
    auto more = read_some(deadline);
    if (!more) return more.error();
    if (!*more) return failure(buffer_.empty() ? "the connection closed without a response"
                                               : "the connection closed inside the response's header");
  }
  HttpResponse r;
  std::string_view head(buffer_.data(), end);
  const auto first_eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, first_eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    return failure(fmt::format("not an HTTP/1.x response: {}", std::string(status_line.substr(0, 80))));
  }
  keep_alive = status_line.substr(0, 8) == "HTTP/1.1";
  std::from_chars(status_line.data() + 9, status_line.data() + 12, r.status);
  std::optional<std::size_t> length;
  bool chunked = false;
  for (std::size_t at = first_eol == std::string_view::npos ? head.size() : first_eol + 2; at < head.size();) {
    auto eol = head.find("\r\n", at);
    if (eol == std::string_view::npos) eol = head.size();
    const std::string_view line = head.substr(at, eol - at);
    at = eol + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    if (iequals(name, "Content-Length")) {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{}) return failure("a malformed Content-Length in the response");
      length = n;
    } else if (iequals(name, "Transfer-Encoding")) {
      chunked = value.find("chunked") != std::string::npos;
    } else if (iequals(name, "Connection")) {
      if (iequals(value, "close")) keep_alive = false;
      if (iequals(value, "keep-alive")) keep_alive = true;
    }
    r.headers.emplace_back(std::move(name), std::move(value));
  }
  buffer_.erase(0, end + 4);
  if (method == "HEAD" || r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200)) return r;
  if (chunked) {
    auto body = read_chunked(deadline);
    if (!body) return body.error();
    r.body = std::move(*body);
  } else if (length) {
    while (buffer_.size() < *length) {
      auto more = read_some(deadline);
      if (!more) return more.error();
      if (!*more) return failure("the connection closed before the whole body arrived");
    }
    r.body = buffer_.substr(0, *length);
    buffer_.erase(0, *length);
  } else {
    // The body runs to the end of the connection.
    for (;;) {
      auto more = read_some(deadline);
      if (!more) return more.error();
      if (!*more) break;
    }
    r.body = std::move(buffer_);
    buffer_.clear();
    keep_alive = false;
  }
  return r;
}

std::optional<RequestSigner> request_signer_from_environment(const std::string& region) {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  RequestSigner s{{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")},
                  env("AWS_REGION")};
  if (s.credentials.access_key_id.empty() || s.credentials.secret_access_key.empty()) return std::nullopt;
  if (s.region.empty()) s.region = env("AWS_DEFAULT_REGION");
  if (s.region.empty()) s.region = region;
  return s;
}

std::vector<http::Headers::Field> HttpClient::signature(std::string_view method, const std::string& target,
                                                        const std::string& host, std::string_view body) const {
  http::Request r;
  for (auto m : {http::Method::kGet, http::Method::kPost, http::Method::kPut, http::Method::kDelete,
                 http::Method::kHead, http::Method::kPatch}) {
    if (http::method_name(m) == method) r.method = m;
  }
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? std::string() : target.substr(q + 1);
  r.body = std::string(body);
  r.headers.add("Host", host);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  return invoke_api::sigv4::sign(r, signer_->credentials, now, signer_->region);
}

Result<HttpResponse> HttpClient::request(std::string_view method, const std::string& target,
                                         const HttpHeaders& headers, std::string_view body,
                                         std::chrono::milliseconds timeout) {
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  const std::string host = fmt::format("{}:{}", endpoint_.host, endpoint_.port);
  std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n", method, target, host,
                                 body.size());
  for (const auto& [k, v] : headers) head += fmt::format("{}: {}\r\n", k, v);
  if (signer_) {
    for (const auto& f : signature(method, target, host, body)) head += fmt::format("{}: {}\r\n", f.name, f.value);
  }
  head += "\r\n";
  // A reused connection may have been closed by the server while idle: then, and only when
  // nothing of a response arrived, the request is sent once more on a new connection.
  for (int attempt = 0;; ++attempt) {
    const bool reused = fd_.valid();
    if (!reused) {
      if (auto st = connect(deadline); !st) return st.error();
    }
    auto sent = send_all(head, deadline);
    if (sent) sent = send_all(body, deadline);
    bool keep_alive = false;
    auto response = sent ? read_response(method, deadline, keep_alive) : Result<HttpResponse>(sent.error());
    if (response) {
      if (!keep_alive) fd_.reset();
      return response;
    }
    const bool nothing_came = buffer_.empty();
    fd_.reset();
    buffer_.clear();
    if (!reused || attempt > 0 || !nothing_came || std::chrono::steady_clock::now() >= deadline) {
      return response.error();
    }
  }
}

}  // namespace lambdad::client

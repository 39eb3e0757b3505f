// The framing screen in front of Pistache's parser (shared/http/framing.hpp): what passes,
// what is refused with which status, and how requests are handed over.
#include <doctest/doctest.h>

#include "shared/http/framing.hpp"

using hydra::http::FramingScreen;

namespace {

FramingScreen::Limits limits() {
  FramingScreen::Limits l;
  l.max_head_bytes = 1024;
  l.max_body_bytes = 100;
  l.max_header_lines = 10;
  return l;
}

struct Fed {
  std::optional<FramingScreen::Refusal> refusal;
  std::string passed;
  std::vector<std::string> pieces;
};

// Feeds `input` `step` bytes at a time.
Fed feed(const std::string& input, std::size_t step = 1 << 20) {
  FramingScreen screen(limits());
  Fed out;
  for (std::size_t i = 0; i < input.size() && !out.refusal; i += step) {
    out.refusal = screen.feed(std::string_view(input).substr(i, step), out.pieces);
  }
  for (const auto& p : out.pieces) out.passed += p;
  return out;
}

int status(const std::string& input) {
  const auto fed = feed(input);
  return fed.refusal ? fed.refusal->status : 0;
}

}  // namespace

TEST_CASE("framing: well-formed requests pass unchanged, byte by byte or at once") {
  const std::string get = "GET /healthz HTTP/1.1\r\nX-Trace: x\r\nAuthorization: Bearer k\r\n\r\n";
  const std::string post = "POST /v1/x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  for (const std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
    CAPTURE(step);
    CHECK(feed(get, step).passed == get);
    CHECK(feed(post, step).passed == post);
    CHECK_FALSE(feed(get + post, step).refusal);
    CHECK(feed(get + post, step).passed == get + post);
  }
}

TEST_CASE("framing: pipelined requests are handed over one per piece, a head only once complete") {
  const std::string get = "GET /a HTTP/1.1\r\n\r\n";
  const auto fed = feed(get + get + get);
  REQUIRE(fed.pieces.size() == 3);
  for (const auto& piece : fed.pieces) CHECK(piece == get);
  FramingScreen screen(limits());
  std::vector<std::string> pieces;
  CHECK_FALSE(screen.feed("GET /a HTTP/1.1\r\nHost:", pieces));
  CHECK(pieces.empty());  // held back
  CHECK_FALSE(screen.idle());
  CHECK_FALSE(screen.feed(" x\r\n\r\n", pieces));
  CHECK(pieces.size() == 1);
  CHECK(screen.idle());
}

TEST_CASE("framing: a head over the limit or with too many lines is 431") {
  CHECK(status("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n") == 431);
  CHECK(status("GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n") == 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) many += "X" + std::to_string(i) + ": y\r\n";
  CHECK(status(many + "\r\n") == 431);
  // Refused as soon as the limit is passed, without waiting for the end of the head.
  CHECK(status("GET / HTTP/1.1\r\nX: " + std::string(2000, 'a')) == 431);
}

TEST_CASE("framing: a declared body over the limit is 413 before any of it, and its head never passes") {
  const auto fed = feed("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n");
  REQUIRE(fed.refusal);
  CHECK(fed.refusal->status == 413);
  CHECK(fed.passed.empty());
  CHECK(status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 413);
  CHECK(status("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n") == 0);
}

TEST_CASE("framing: malformed framing is 400") {
  for (const char* bad : {
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx",
           "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\nx",
           "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
           "POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nxx",
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n",
           "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
           "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\nb\r\n\r\n",
           "GET  / HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1 extra\r\n\r\n",
           "GET\r\n\r\n",
           "GET / FTP/1.1\r\n\r\n",
       }) {
    CAPTURE(bad);
    CHECK(status(bad) == 400);
  }
}

TEST_CASE("framing: control characters other than NUL, CR and LF in a value are left to the routes") {
  CHECK(status("GET / HTTP/1.1\r\nX-Api-Key: \x01\x02\xff\r\n\r\n") == 0);
  CHECK(status(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26)) == 400);
}

TEST_CASE("framing: a Content-Length repeated with the same value is one length, handed over once") {
  CHECK(feed("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab").passed ==
        "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab");
  CHECK(feed("POST / HTTP/1.1\r\ncontent-length: 2, 02\r\n\r\nab").passed ==
        "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab");
}

TEST_CASE("framing: repeated X-Forwarded-For lines are handed over as one list, in order") {
  // Pistache keeps the first line of a name: the client's, before the one its proxy appended.
  CHECK(feed("GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9\r\nX-Trace: t\r\n"
             "x-forwarded-for: 198.51.100.1 , 10.0.0.4\r\nX-Forwarded-For:\r\nX-Forwarded-For:192.0.2.1\r\n\r\n")
            .passed == "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9, 198.51.100.1 , 10.0.0.4, 192.0.2.1\r\n"
                       "X-Trace: t\r\n\r\n");
  // One line passes as it came.
  const std::string one = "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.4\r\n\r\n";
  CHECK(feed(one).passed == one);
}

TEST_CASE("framing: a repeated Authorization or X-Api-Key is 400: one credential per request") {
  const auto refused = feed("GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n");
  REQUIRE(refused.refusal);
  CHECK(refused.refusal->status == 400);
  CHECK(refused.refusal->detail == "Repeated Authorization header");
  CHECK(refused.passed.empty());
  CHECK(status("GET / HTTP/1.1\r\nX-Api-Key: a\r\nX-Api-Key: a\r\n\r\n") == 400);
  // One of each is for the route to judge.
  CHECK(status("GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nX-Api-Key: b\r\n\r\n") == 0);
}

TEST_CASE("framing: headers Pistache would parse are handed over renamed, unparsed, in place") {
  const auto fed = feed("GET / HTTP/1.1\r\nHost: a:b:c\r\nDate: not a date\r\nCache-Control: max-age=x\r\n"
                        "content-type: !!!\r\nAccept: ???\r\nX-Request-Id: r1\r\nConnection: keep-alive\r\n"
                        "Cookie: broken\r\nUser-Agent:  ua/1 \r\n\r\n");
  REQUIRE_FALSE(fed.refusal);
  CHECK(fed.passed == "GET / HTTP/1.1\r\nHydra-Screened-Host: a:b:c\r\nHydra-Screened-Date: not a date\r\n"
                      "Hydra-Screened-Cache-Control: max-age=x\r\nHydra-Screened-content-type: !!!\r\n"
                      "Hydra-Screened-Accept: ???\r\nX-Request-Id: r1\r\nConnection: keep-alive\r\n"
                      "Hydra-Screened-Cookie: broken\r\nHydra-Screened-User-Agent: ua/1\r\n\r\n");
}

TEST_CASE("framing: a renamed header's repeated lines are one line, in order, where the first stood") {
  CHECK(feed("GET / HTTP/1.1\r\nAccept: a/b\r\nX-Other: 1\r\naccept:\r\nACCEPT: c/d;q=0.5\r\n"
             "Cookie: a=1\r\nCookie: b=2\r\n\r\n")
            .passed == "GET / HTTP/1.1\r\nHydra-Screened-Accept: a/b, c/d;q=0.5\r\nX-Other: 1\r\n"
                       "Hydra-Screened-Cookie: a=1; b=2\r\n\r\n");
  // Other names pass line by line, as they came (Pistache reads the first).
  const std::string other = "GET / HTTP/1.1\r\nX-Other: 1\r\nX-Other: 2\r\n\r\n";
  CHECK(feed(other).passed == other);
}

TEST_CASE("framing: the query string is handed over as written, only when there is one") {
  CHECK(feed("GET /m?labelIds=A&labelIds=B&q=%20x&flag HTTP/1.1\r\nX: 1\r\n\r\n").passed ==
        "GET /m?labelIds=A&labelIds=B&q=%20x&flag HTTP/1.1\r\nX: 1\r\n"
        "Hydra-Screened-Query: labelIds=A&labelIds=B&q=%20x&flag\r\n\r\n");
  CHECK(feed("GET /m?a=?b HTTP/1.1\r\n\r\n").passed ==
        "GET /m?a=?b HTTP/1.1\r\nHydra-Screened-Query: a=?b\r\n\r\n");
  CHECK(feed("GET /m HTTP/1.1\r\n\r\n").passed == "GET /m HTTP/1.1\r\n\r\n");
  CHECK(feed("GET /m? HTTP/1.1\r\n\r\n").passed == "GET /m? HTTP/1.1\r\n\r\n");
  // Before the body, after the framing headers.
  CHECK(feed("POST /m?x=1 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab").passed ==
        "POST /m?x=1 HTTP/1.1\r\nContent-Length: 2\r\nHydra-Screened-Query: x=1\r\n\r\nab");
}

TEST_CASE("framing: a client's own Hydra-Screened- header is 400") {
  for (const char* name : {"Hydra-Screened-Query", "hydra-screened-accept", "Hydra-Screened-"}) {
    CAPTURE(name);
    const auto fed = feed(std::string("GET /m?a=1 HTTP/1.1\r\n") + name + ": x\r\n\r\n");
    REQUIRE(fed.refusal);
    CHECK(fed.refusal->status == 400);
    CHECK(fed.refusal->detail == std::string("Reserved header field: ") + name);
    CHECK(fed.passed.empty());
  }
  CHECK(status("GET / HTTP/1.1\r\nHydra-Screened: x\r\nX-Hydra-Screened-Query: y\r\n\r\n") == 0);
}

TEST_CASE("framing: the head handed over grows by at most maxHeadGrowth") {
  // The worst case: the longest query the head allows, and every line renamed.
  const auto l = limits();
  std::string head = "GET /?";
  std::string lines;
  for (const char* name : {"Accept", "Allow", "Cache-Control", "Content-Encoding", "Content-Type", "Cookie", "Date",
                           "Expect", "Host", "Location"}) {
    lines += std::string(name) + ":\r\n";
  }
  REQUIRE(l.max_header_lines == 10);
  head += std::string(l.max_head_bytes - head.size() - 11 - lines.size() - 2, 'q') + " HTTP/1.1\r\n" + lines + "\r\n";
  REQUIRE(head.size() == l.max_head_bytes);
  const auto fed = feed(head);
  REQUIRE_FALSE(fed.refusal);
  CHECK(fed.passed.size() > head.size() + 800 + 10 * 16);  // the query copied, every line renamed
  CHECK(fed.passed.size() <= head.size() + FramingScreen::maxHeadGrowth(l));
}

TEST_CASE("framing: unknown methods and transfer codings are 501, other versions 505") {
  CHECK(status("BREW / HTTP/1.1\r\n\r\n") == 501);
  CHECK(status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(status("GET / HTTP/2.0\r\n\r\n") == 505);
  CHECK(status("GET / HTTP/1.0\r\n\r\n") == 0);
}

TEST_CASE("framing: chunked bodies pass with canonical sizes (no extensions), trailers are kept back") {
  const auto fed = feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3;name=value\r\nabc\r\n00A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
                        "GET / HTTP/1.1\r\n\r\n", 1);
  REQUIRE_FALSE(fed.refusal);
  CHECK(fed.passed ==
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\nGET / HTTP/1.1\r\n\r\n");
}

TEST_CASE("framing: a chunked body growing past the limit is 413") {
  std::string body = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) body += "a\r\n0123456789\r\n";
  CHECK(status(body) == 413);
  CHECK(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n") == 413);
}

TEST_CASE("framing: after a refusal everything is swallowed") {
  FramingScreen screen(limits());
  std::vector<std::string> pieces;
  REQUIRE(screen.feed("BREW / HTTP/1.1\r\n\r\n", pieces));
  CHECK(screen.refused());
  CHECK_FALSE(screen.feed("GET / HTTP/1.1\r\n\r\n", pieces));
  CHECK(pieces.empty());
}

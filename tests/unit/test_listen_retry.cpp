// How the broker's listening threads (authz change listener, connect exchange) try again after
// losing their PostgreSQL connection (broker/db/listen_retry.hpp).
#include <doctest/doctest.h>

#include "broker/db/listen_retry.hpp"

using hydra::broker::db::ListenRetry;
using std::chrono::milliseconds;

TEST_CASE("listen retry: waits double from 100 ms up to the cap") {
  ListenRetry retry(milliseconds(500));
  CHECK(retry.nextWait() == milliseconds(100));
  CHECK(retry.nextWait() == milliseconds(200));
  CHECK(retry.nextWait() == milliseconds(400));
  CHECK(retry.nextWait() == milliseconds(500));
  CHECK(retry.nextWait() == milliseconds(500));
}

TEST_CASE("listen retry: only the first failure of a run is news, and a lost listening connection starts over") {
  ListenRetry retry(milliseconds(2000));
  CHECK(retry.failed(false));        // the first try failed
  CHECK_FALSE(retry.failed(false));  // and again: quiet
  retry.nextWait();
  retry.nextWait();
  CHECK(retry.nextWait() == milliseconds(400));
  CHECK(retry.failed(true));         // a connection that had listened was lost: news, waits start over
  CHECK(retry.nextWait() == milliseconds(100));
  CHECK_FALSE(retry.failed(false));
}

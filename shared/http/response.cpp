#include "shared/http/response.hpp"

#include "shared/json/writer.hpp"

namespace hydra::http {

Reply errorReply(int status, const std::string& detail) {
  json::Writer w;
  w.beginObject().key("detail").string(detail).endObject();
  return json(status, w.str());
}

}  // namespace hydra::http

#pragma once
// A JSON file of tests/data, parsed (for the known-answer tests).

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

namespace hydra::test {

inline rapidjson::Document testDataJson(const std::string& file) {
  std::ifstream in(std::string(HYDRA_TEST_DATA_DIR) + "/" + file);
  if (!in) throw std::runtime_error("cannot read tests/data/" + file);
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  if (doc.HasParseError()) throw std::runtime_error("tests/data/" + file + " is not JSON");
  return doc;
}

}  // namespace hydra::test

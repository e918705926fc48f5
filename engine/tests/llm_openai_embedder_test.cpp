// The OpenAI-compatible embeddings wire format: the request body, and answers
// placed by their index, normalised, and refused whole when anything is off.
// (Requests over a real socket through the edge: t/test_embedders.py.)

#include "llm/openai_embedder.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace parley::llm {
namespace {

openai_embedder_settings settings() {
  openai_embedder_settings s;
  s.model = "text-embedding-3-small";
  s.dimensions = 3;
  return s;
}

std::string error_of(std::string_view body, std::size_t count = 2, std::size_t dimensions = 3) {
  try {
    parse_openai_embeddings(body, count, dimensions);
  } catch (const embedding_error& e) {
    return e.what();
  }
  return "";
}

TEST(OpenaiEmbedder, TheBodyNamesModelInputsAndFloats) {
  auto s = settings();
  const std::vector<std::string> inputs{"a", "b"};
  auto body = nlohmann::json::parse(openai_embeddings_body(s, inputs));
  EXPECT_EQ(body["model"], "text-embedding-3-small");
  EXPECT_EQ(body["input"], nlohmann::json(inputs));
  EXPECT_EQ(body["encoding_format"], "float");
  EXPECT_FALSE(body.contains("dimensions"));
  s.send_dimensions = true;
  body = nlohmann::json::parse(openai_embeddings_body(s, inputs));
  EXPECT_EQ(body["dimensions"], 3);
}

TEST(OpenaiEmbedder, VectorsArePlacedByIndexAndNormalised) {
  const auto v = parse_openai_embeddings(R"({"object":"list","data":[
      {"object":"embedding","index":1,"embedding":[0,3,4]},
      {"object":"embedding","index":0,"embedding":[2,0,0]}],"model":"m"})",
                                         2, 3);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_FLOAT_EQ(v[0][0], 1.0F);
  EXPECT_FLOAT_EQ(v[1][1], 0.6F);
  EXPECT_FLOAT_EQ(v[1][2], 0.8F);
}

TEST(OpenaiEmbedder, AnAnswerThatIsOffInAnyWayIsRefusedWhole) {
  EXPECT_EQ(error_of("not json"), "the embedding provider sent a malformed answer");
  EXPECT_EQ(error_of(R"({"data":[{"index":0,"embedding":[1,0,0]}]})"),
            "the embedding provider sent a malformed answer");  // one vector for two texts
  EXPECT_EQ(error_of(R"({"data":[{"index":0,"embedding":[1,0,0]},
                                 {"index":0,"embedding":[0,1,0]}]})"),
            "the embedding provider sent a malformed answer");  // the same index twice
  EXPECT_EQ(error_of(R"({"data":[{"index":0,"embedding":[1,0,0]},
                                 {"index":2,"embedding":[0,1,0]}]})"),
            "the embedding provider sent a malformed answer");  // out of range
  EXPECT_EQ(error_of(R"({"data":[{"index":0,"embedding":[1,0,0]},
                                 {"index":1,"embedding":[0,"x",0]}]})"),
            "the embedding provider sent a malformed answer");
  EXPECT_EQ(error_of(R"({"data":[{"index":0,"embedding":[1,0,0]},
                                 {"index":1,"embedding":[0,1]}]})"),
            "the embedding provider sent vectors of the wrong length");
}

TEST(OpenaiEmbedder, TheDetailIsForTheOperator) {
  try {
    parse_openai_embeddings(R"({"data":[{"index":0,"embedding":[1,0]}]})", 1, 3);
    FAIL();
  } catch (const embedding_error& e) {
    EXPECT_EQ(e.detail(), "got 2 dimensions, configured 3");
  }
}

}  // namespace
}  // namespace parley::llm

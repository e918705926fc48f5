// Configuration: defaults, every problem listed at once, PARLEY__SECTION__KEY
// overrides, and secrets only from files or the environment.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"

namespace parley::config {
namespace {

std::vector<std::string> problems_of(const std::string& yaml, const environment& env = {}) {
  try {
    parse(yaml, env);
  } catch (const config_error& e) {
    return e.problems();
  }
  return {};
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  return std::ranges::any_of(problems,
                             [&](const auto& p) { return p.find(text) != std::string::npos; });
}

class temp_file {
 public:
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/parley-config-test-XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    ::close(fd);
    std::ofstream(path_) << content;
  }
  ~temp_file() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Config, EmptyFileGivesTheDocumentedDefaults) {
  const auto c = parse("", {});
  EXPECT_EQ(c.server.socket, "/run/parley/engine.sock");
  EXPECT_EQ(c.server.socket_mode, 0660u);
  EXPECT_EQ(c.server.threads, 2u);
  EXPECT_EQ(c.database.pool_size, 8u);
  EXPECT_EQ(c.edge.context_max_age_ms, 30000);
  EXPECT_EQ(c.retrieval.embedder, "hashing");
  EXPECT_EQ(c.retrieval.dimensions, 384u);
  EXPECT_EQ(c.llm.provider, "extractive");
  EXPECT_EQ(c.llm.heartbeat_ms, 15000u);
  EXPECT_DOUBLE_EQ(c.llm.prices.at("gpt-4o-mini").completion_per_1k, 0.0006);
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_FALSE(c.logging.log_prompts);
}

TEST(Config, TheExampleFileIsValid) {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/conf.examples/parley.yaml");
  ASSERT_TRUE(in);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NO_THROW(parse(text, {}));
}

TEST(Config, ValuesAreRead) {
  const auto c = parse(R"(
server: {socket: /tmp/p.sock, socket_mode: "0600", threads: 4}
database: {dsn: "host=/tmp dbname=x user=parley_app", pool_size: 3}
llm:
  provider: openai
  base_url: http://127.0.0.1:9/v1
  prices: {m1: {prompt_per_1k: 0.5, completion_per_1k: 1.5}}
logging: {level: debug, log_prompts: true}
)",
                       {});
  EXPECT_EQ(c.server.socket, "/tmp/p.sock");
  EXPECT_EQ(c.server.socket_mode, 0600u);
  EXPECT_EQ(c.server.threads, 4u);
  EXPECT_EQ(c.database.pool_size, 3u);
  EXPECT_EQ(c.llm.provider, "openai");
  ASSERT_EQ(c.llm.prices.size(), 1u);
  EXPECT_DOUBLE_EQ(c.llm.prices.at("m1").prompt_per_1k, 0.5);
  EXPECT_TRUE(c.logging.log_prompts);
}

TEST(Config, EveryProblemIsListed) {
  const auto problems = problems_of(R"(
server: {threads: 0, socket: relative.sock, socket_mode: "999"}
database: {pool_size: lots}
retrieval: {embedder: magic, chunk_tokens: 100, chunk_overlap: 100}
llm: {provider: psychic, base_url: ftp://x, api_key_file: /a, api_key_env: B}
logging: {level: loud, log_prompts: maybe, colour: true}
extras: {}
)");
  for (const char* expected :
       {"server.threads", "server.socket:", "server.socket_mode", "database.pool_size",
        "retrieval.embedder", "retrieval.chunk_overlap", "llm.provider", "llm.base_url",
        "api_key_file or api_key_env", "logging.level", "logging.log_prompts",
        "logging.colour: unknown setting", "extras: unknown section"}) {
    EXPECT_TRUE(mentions(problems, expected)) << "missing problem: " << expected;
  }
  EXPECT_EQ(problems.size(), 13u);
}

TEST(Config, TheAnthropicProvider) {
  const auto c = parse(R"(
llm:
  provider: anthropic
  base_url: https://api.anthropic.com/v1
  model: claude-sonnet-4-5
  api_key_env: ANTHROPIC_API_KEY
  anthropic_version: "2023-06-01"
  max_tokens: 2048
  prices: {claude-sonnet-4-5: {prompt_per_1k: 0.003, completion_per_1k: 0.015}}
)",
                       {});
  EXPECT_EQ(c.llm.provider, "anthropic");
  EXPECT_EQ(c.llm.anthropic_version, "2023-06-01");
  EXPECT_EQ(c.llm.max_tokens, 2048);
  EXPECT_EQ(parse("", {}).llm.anthropic_version, "2023-06-01");

  // Anthropic wants a key, a limit and a version that fits in a header.
  EXPECT_TRUE(mentions(problems_of("llm: {max_tokens: 0}"), "llm.max_tokens"));
  // Without the operator's key, only tenants with their own credential use it.
  EXPECT_NO_THROW(parse("llm: {provider: anthropic}", {}));
  EXPECT_TRUE(mentions(problems_of("llm: {anthropic_version: \"2023-06-01\\r\\nx: y\"}"),
                       "llm.anthropic_version"));
  EXPECT_TRUE(mentions(problems_of("llm: {anthropic_version: \"\"}"), "llm.anthropic_version"));
  EXPECT_TRUE(mentions(problems_of("llm: {provider: claude}"),
                       "llm.provider: must be extractive, openai, anthropic or a name under "
                       "llm.providers"));
}

TEST(Config, AgentsMayNameFurtherProviders) {
  const auto c = parse(R"(
llm:
  provider: openai
  model: gpt-4o-mini
  providers:
    claude: {kind: anthropic, base_url: "https://api.anthropic.com/v1", model: claude-haiku-4-5}
    local: {kind: openai, base_url: "http://127.0.0.1:8080/v1", model: llama}
)",
                       {});
  const auto all = providers_of(c.llm);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.at("openai").kind, "openai");
  EXPECT_EQ(all.at("openai").model, "gpt-4o-mini");
  EXPECT_EQ(all.at("claude").kind, "anthropic");
  EXPECT_EQ(all.at("local").base_url, "http://127.0.0.1:8080/v1");
  // The default may be one of them.
  EXPECT_EQ(providers_of(parse("llm: {provider: local, providers: {local: {kind: openai, "
                               "base_url: 'http://h/v1', model: m}}}",
                               {})
                             .llm)
                .size(),
            1u);

  EXPECT_TRUE(mentions(problems_of("llm: {providers: {x: {kind: gemini}}}"),
                       "llm.providers.x: the kind must be extractive, openai or anthropic"));
  EXPECT_TRUE(mentions(problems_of("llm: {providers: {x: {kind: openai, base_url: ftp://h}}}"),
                       "llm.providers.x.base_url"));
  EXPECT_TRUE(mentions(problems_of("llm: {providers: {x: {kind: openai, base_url: 'http://h'}}}"),
                       "llm.providers.x.model: must not be empty"));
  EXPECT_TRUE(mentions(problems_of("llm: {providers: {'a b': {kind: extractive}}}"),
                       "llm.providers.a b: a name is"));
  EXPECT_TRUE(mentions(problems_of("llm: {providers: {x: {kind: openai, wat: 1}}}"),
                       "llm.providers.x.wat"));
}

TEST(Config, AnUnknownDefaultEmbedderIsRefusedAtLoad) {
  // refused here, with the other problems, not when serve builds its indexes
  const auto problems = problems_of("retrieval: {embedder: openai}\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(mentions(problems, "retrieval.embedder: must be hashing or a name under"));
}

TEST(Config, EmbeddersAreNamedEndpoints) {
  const auto c = parse(R"(
retrieval:
  embedder: minilm
  embedders:
    minilm:
      base_url: http://127.0.0.1:8081/v1
      model: all-minilm
      dimensions: 384
      batch_size: 32
      query_prefix: "query: "
      min_score: 0.5
)",
                       {{"PARLEY__RETRIEVAL__EMBEDDERS__MINILM__TIMEOUT_MS", "900"}});
  const auto& e = c.retrieval.embedders.at("minilm");
  EXPECT_EQ(e.model, "all-minilm");
  EXPECT_EQ(e.dimensions, 384u);
  EXPECT_EQ(e.batch_size, 32u);
  EXPECT_EQ(e.timeout_ms, 900u);
  EXPECT_EQ(e.query_prefix, "query: ");
  EXPECT_DOUBLE_EQ(min_score_for(c.retrieval, "minilm"), 0.5);
  EXPECT_DOUBLE_EQ(min_score_for(c.retrieval, "hashing"), c.retrieval.min_score);
}

TEST(Config, EveryEmbedderProblemIsNamed) {
  const auto problems = problems_of(R"(
retrieval:
  embedders:
    hashing: {base_url: http://x/v1, model: m, dimensions: 8}
    "bad name": {base_url: http://x/v1, model: m, dimensions: 8}
    empty: {base_url: ftp://x, api_key_file: /a, api_key_env: B}
    typo: {base_url: http://x/v1, model: m, dimensions: 8, api_key: sk-123}
)");
  EXPECT_TRUE(mentions(problems, "retrieval.embedders.hashing: 'hashing' is the built-in"));
  EXPECT_TRUE(mentions(problems, "retrieval.embedders.bad name: a name is"));
  EXPECT_TRUE(mentions(problems, "retrieval.embedders.empty.base_url: must start with http"));
  EXPECT_TRUE(mentions(problems, "retrieval.embedders.empty.model: must not be empty"));
  EXPECT_TRUE(mentions(problems, "retrieval.embedders.empty.dimensions: must be set"));
  EXPECT_TRUE(mentions(problems, "retrieval.embedders.empty: set api_key_file or api_key_env"));
  EXPECT_TRUE(mentions(problems, "retrieval.embedders.typo.api_key: unknown setting"));
}

TEST(Config, AnEmbeddersKeyComesFromItsEnvironmentVariable) {
  temp_file secret(std::string(40, 's'));
  const std::string yaml = "edge: {secret_file: " + secret.path() +
                           "}\nretrieval:\n  embedders:\n    e5: {base_url: http://x/v1, "
                           "model: e5, dimensions: 8, api_key_env: E5_KEY}\n";
  secrets s;
  parse(yaml, {{"E5_KEY", "sk-e5-key\n"}}, &s);
  EXPECT_EQ(s.embedder_api_keys.at("e5"), "sk-e5-key");
  const auto problems = problems_of(yaml);
  EXPECT_TRUE(problems.empty());  // secrets are only read when asked for
  try {
    parse(yaml, {}, &s);
    FAIL() << "a missing key variable must be a problem";
  } catch (const config_error& e) {
    EXPECT_TRUE(
        mentions(e.problems(), "retrieval.embedders.e5.api_key_env: environment variable E5_KEY"));
  }
}

TEST(Config, FusionAndBm25AreTunable) {
  const auto defaults = parse("", {});
  const auto c = parse(R"(
retrieval:
  fusion: {k: 10, lexical_weight: 2, vector_weight: 0.5}
  bm25: {k1: 0.9, b: 0.6}
)",
                       {{"PARLEY__RETRIEVAL__FUSION__VECTOR_WEIGHT", "0"}});
  EXPECT_DOUBLE_EQ(c.retrieval.fusion.k, 10);
  EXPECT_DOUBLE_EQ(c.retrieval.fusion.lexical_weight, 2);
  EXPECT_DOUBLE_EQ(c.retrieval.fusion.vector_weight, 0);  // the environment wins
  EXPECT_DOUBLE_EQ(c.retrieval.bm25.k1, 0.9);
  EXPECT_DOUBLE_EQ(c.retrieval.bm25.b, 0.6);
  // A partial mapping keeps the other defaults.
  const auto partial = parse("retrieval: {fusion: {k: 5}}\n", {});
  EXPECT_DOUBLE_EQ(partial.retrieval.fusion.k, 5);
  EXPECT_DOUBLE_EQ(partial.retrieval.fusion.lexical_weight,
                   defaults.retrieval.fusion.lexical_weight);
  EXPECT_DOUBLE_EQ(partial.retrieval.bm25.b, defaults.retrieval.bm25.b);
}

TEST(Config, BadFusionAndBm25SettingsAreNamed) {
  const auto problems = problems_of(R"(
retrieval:
  fusion: {k: -1, lexical_weight: heavy, boost: 2}
  bm25: {k1: 1.2, b: 1.5}
)");
  for (const char* expected :
       {"retrieval.fusion.k: -1 is out of range",
        "retrieval.fusion.lexical_weight: expected a number",
        "retrieval.fusion.boost: unknown setting", "retrieval.bm25.b: 1.5 is out of range"}) {
    EXPECT_TRUE(mentions(problems, expected)) << "missing problem: " << expected;
  }
  EXPECT_EQ(problems.size(), 4u);
  EXPECT_TRUE(
      mentions(problems_of("retrieval: {fusion: 3}\n"), "retrieval.fusion: expected a mapping"));
  EXPECT_TRUE(mentions(problems_of("retrieval: {fusion: {lexical_weight: 0, vector_weight: 0}}\n"),
                       "retrieval.fusion: lexical_weight and vector_weight must not both be 0"));
}

TEST(Config, LoadThrowsWithAllProblemsInTheMessage) {
  try {
    parse("server: {threads: 0}\nlogging: {level: loud}\n", {});
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.problems().size(), 2u);
    EXPECT_NE(std::string(e.what()).find("server.threads"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("logging.level"), std::string::npos);
  }
}

TEST(Config, SyntaxErrorsAreReportedNotThrownRaw) {
  EXPECT_TRUE(mentions(problems_of("server: [unclosed"), "YAML syntax"));
  EXPECT_TRUE(mentions(problems_of("- a\n- b\n"), "mapping"));
}

TEST(Config, EnvironmentOverridesEveryKindOfValue) {
  const environment env{
      {"PARLEY__SERVER__THREADS", "6"},
      {"PARLEY__SERVER__SOCKET_MODE", "0666"},
      {"PARLEY__DATABASE__DSN", "host=/x dbname=y user=z"},
      {"PARLEY__LOGGING__LOG_PROMPTS", "true"},
      {"PARLEY__LLM__PRICES", R"({"m2": {"prompt_per_1k": 1, "completion_per_1k": 2}})"},
      {"PARLEY__RETRIEVAL__MIN_SCORE", "0.5"},
      {"UNRELATED", "1"},
  };
  const auto c = parse("server: {threads: 2}\n", env);
  EXPECT_EQ(c.server.threads, 6u);
  EXPECT_EQ(c.server.socket_mode, 0666u);
  EXPECT_EQ(c.database.dsn, "host=/x dbname=y user=z");
  EXPECT_TRUE(c.logging.log_prompts);
  ASSERT_EQ(c.llm.prices.count("m2"), 1u);
  EXPECT_DOUBLE_EQ(c.llm.prices.at("m2").completion_per_1k, 2);
  EXPECT_DOUBLE_EQ(c.retrieval.min_score, 0.5);
}

TEST(Config, EnvironmentCanSetOneNestedValue) {
  const auto c = parse("", {{"PARLEY__LLM__PRICES__GPT-4O-MINI__PROMPT_PER_1K", "0.25"}});
  EXPECT_DOUBLE_EQ(c.llm.prices.at("gpt-4o-mini").prompt_per_1k, 0.25);
  EXPECT_DOUBLE_EQ(c.llm.prices.at("gpt-4o-mini").completion_per_1k, 0.0006);
}

TEST(Config, ANewPricedModelNeedsBothPrices) {
  EXPECT_TRUE(mentions(problems_of("", {{"PARLEY__LLM__PRICES__NEW__PROMPT_PER_1K", "1"}}),
                       "llm.prices.new: needs both"));
}

TEST(Config, BadEnvironmentOverridesAreProblemsToo) {
  const auto problems = problems_of("", {{"PARLEY__SERVER__THREADS", "many"},
                                         {"PARLEY__SERVER__TYPO", "1"},
                                         {"PARLEY__NOSECTION", "1"},
                                         {"PARLEY__SERVER__SOCKET__X", "1"}});
  EXPECT_TRUE(mentions(problems, "server.threads"));
  EXPECT_TRUE(mentions(problems, "server.typo: unknown setting"));
  EXPECT_TRUE(mentions(problems, "PARLEY__NOSECTION"));
  EXPECT_TRUE(mentions(problems, "server.socket: expected a single value"));
}

TEST(Config, PasswordsAreRefusedInTheFileButAllowedFromTheEnvironment) {
  EXPECT_TRUE(
      mentions(problems_of("database: {dsn: \"host=/x password=hunter2\"}"), "database.dsn"));
  EXPECT_TRUE(mentions(problems_of("database: {migrate_dsn: \"postgresql://u:pw@h/db\"}"),
                       "database.migrate_dsn"));
  EXPECT_TRUE(mentions(problems_of("llm: {api_key: sk-123}"), "llm.api_key"));
  const auto c = parse("", {{"PARLEY__DATABASE__DSN", "host=/x password=hunter2"}});
  EXPECT_EQ(c.database.dsn, "host=/x password=hunter2");
}

TEST(Config, ResolvePathPrefersFlagThenEnvironment) {
  EXPECT_EQ(resolve_path("a.yaml", {{"PARLEY_CONFIG", "b.yaml"}}), "a.yaml");
  EXPECT_EQ(resolve_path("", {{"PARLEY_CONFIG", "b.yaml"}}), "b.yaml");
  EXPECT_EQ(resolve_path("", {}), "var/parley.yaml");
}

TEST(Config, LoadReportsAMissingFile) {
  try {
    load("/nonexistent/parley.yaml", {});
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_TRUE(mentions(e.problems(), "/nonexistent/parley.yaml"));
  }
}

TEST(Config, SecretsComeFromFilesAndEnvironment) {
  temp_file edge(std::string(40, 's') + "\n\n");
  temp_file llm_key("sk-upstream\n");
  temp_file claude_key("sk-ant-operator\n");
  temp_file master("k1 " + std::string(40, 'm') + "\n");
  config c;
  c.edge.secret_file = edge.path();
  c.llm.provider = "openai";
  c.llm.api_key_file = llm_key.path();
  c.llm.providers["claude"] = {
      "anthropic", "https://api.anthropic.com/v1", "claude-haiku-4-5", claude_key.path(), "", ""};
  c.llm.providers["local"] = {"openai", "http://127.0.0.1:8080/v1", "llama", "", "", ""};
  c.llm.master_keys_file = master.path();
  const auto s = load_secrets(c, {});
  EXPECT_EQ(s.edge_secret, std::string(40, 's'));
  EXPECT_EQ(s.provider_api_keys.at("openai"), "sk-upstream");
  EXPECT_EQ(s.provider_api_keys.at("claude"), "sk-ant-operator");
  EXPECT_FALSE(s.provider_api_keys.contains("local"));
  ASSERT_EQ(s.master_keys.size(), 1u);
  EXPECT_EQ(s.master_keys[0].kid, "k1");

  c.llm.api_key_file.clear();
  c.llm.api_key_env = "UPSTREAM_KEY";
  EXPECT_EQ(load_secrets(c, {{"UPSTREAM_KEY", "from-env"}}).provider_api_keys.at("openai"),
            "from-env");

  c.llm.master_keys_file = "/nonexistent/master.keys";
  EXPECT_THROW(load_secrets(c, {{"UPSTREAM_KEY", "x"}}), config_error);
}

TEST(Config, SecretProblemsAreAllListed) {
  temp_file short_secret("too-short\n");
  config c;
  c.edge.secret_file = short_secret.path();
  c.llm.provider = "openai";
  c.llm.api_key_env = "MISSING_KEY";
  try {
    load_secrets(c, {});
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.problems().size(), 2u);
    EXPECT_TRUE(mentions(e.problems(), "at least 32 bytes"));
    EXPECT_TRUE(mentions(e.problems(), "MISSING_KEY"));
  }
  c.edge.secret_file = "/nonexistent/edge.secret";
  c.llm.api_key_env.clear();
  EXPECT_THROW(load_secrets(c, {}), config_error);
}

TEST(Config, ServingListsConfigurationAndSecretProblemsTogether) {
  secrets s;
  try {
    parse("server: {threads: 0}\nedge: {secret_file: /nonexistent/edge.secret}\n", {}, &s);
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.problems().size(), 2u);
    EXPECT_TRUE(mentions(e.problems(), "server.threads"));
    EXPECT_TRUE(mentions(e.problems(), "edge.secret_file"));
  }
}

TEST(Config, WidgetSettingsHaveDefaultsAndBounds) {
  const auto c = parse("", {});
  EXPECT_TRUE(c.widget.keys_file.empty());  // the widget is off until a ring is configured
  EXPECT_EQ(c.widget.token_ttl_s, 600);
  EXPECT_EQ(c.widget.issuer, "parley");
  EXPECT_EQ(parse("widget: {token_ttl_s: 900}\n", {}).widget.token_ttl_s, 900);
  EXPECT_TRUE(mentions(problems_of("widget: {token_ttl_s: 901}\n"), "widget.token_ttl_s"));
  EXPECT_TRUE(mentions(problems_of("widget: {token_ttl_s: 0}\n"), "widget.token_ttl_s"));
  EXPECT_TRUE(mentions(problems_of("widget: {issuer: \"a b\"}\n"), "widget.issuer"));
  EXPECT_TRUE(mentions(problems_of("widget: {colour: red}\n"), "widget.colour: unknown setting"));
}

TEST(Config, IdleWidgetSessionsExpireAfterAValidatedTime) {
  const auto c = parse("", {});
  EXPECT_EQ(c.widget.idle_session_ttl_s, 86400);
  EXPECT_EQ(c.widget.session_sweep_interval_s, 300);
  const auto set = parse("widget: {idle_session_ttl_s: 3600, session_sweep_interval_s: 60}\n", {});
  EXPECT_EQ(set.widget.idle_session_ttl_s, 3600);
  EXPECT_EQ(set.widget.session_sweep_interval_s, 60);
  EXPECT_EQ(parse("", {{"PARLEY__WIDGET__IDLE_SESSION_TTL_S", "7200"}}).widget.idle_session_ttl_s,
            7200);
  EXPECT_TRUE(
      mentions(problems_of("widget: {idle_session_ttl_s: 0}\n"), "widget.idle_session_ttl_s"));
  EXPECT_TRUE(
      mentions(problems_of("widget: {idle_session_ttl_s: soon}\n"), "widget.idle_session_ttl_s"));
  EXPECT_TRUE(mentions(problems_of("widget: {session_sweep_interval_s: 0}\n"),
                       "widget.session_sweep_interval_s"));
  // A session must outlive every token minted for it.
  EXPECT_TRUE(mentions(problems_of("widget: {token_ttl_s: 900, idle_session_ttl_s: 600}\n"),
                       "widget.idle_session_ttl_s: must be at least widget.token_ttl_s"));
  EXPECT_EQ(
      parse("widget: {token_ttl_s: 600, idle_session_ttl_s: 600}\n", {}).widget.idle_session_ttl_s,
      600);
}

TEST(Config, WidgetSettingsFollowTheEnvironment) {
  const auto c = parse("", {{"PARLEY__WIDGET__KEYS_FILE", "/run/parley/widget.keys"},
                            {"PARLEY__WIDGET__TOKEN_TTL_S", "120"},
                            {"PARLEY__WIDGET__ISSUER", "acme-parley"}});
  EXPECT_EQ(c.widget.keys_file, "/run/parley/widget.keys");
  EXPECT_EQ(c.widget.token_ttl_s, 120);
  EXPECT_EQ(c.widget.issuer, "acme-parley");
}

TEST(Config, TheWidgetKeyRingIsReadWithTheSecrets) {
  temp_file edge(std::string(40, 's'));
  temp_file ring("# rotated 2025-01\nk1 " + std::string(32, 'a') + "\nk2 " + std::string(32, 'b') +
                 "\n");
  config c;
  c.edge.secret_file = edge.path();
  c.widget.keys_file = ring.path();
  const auto s = load_secrets(c, {});
  ASSERT_EQ(s.widget_keys.size(), 2u);
  EXPECT_EQ(s.widget_keys.back().kid, "k2");
}

TEST(Config, KeyRingProblemsAreListedWithEveryOtherProblem) {
  temp_file ring("k1 tooshort\nk1 " + std::string(32, 'a') + "\nk1 " + std::string(32, 'b') + "\n");
  secrets s;
  try {
    parse(
        "server: {threads: 0}\nedge: {secret_file: /nonexistent/edge.secret}\nwidget: "
        "{keys_file: " +
            ring.path() + "}\n",
        {}, &s);
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(e.problems().size(), 4u);
    EXPECT_TRUE(mentions(e.problems(), "server.threads"));
    EXPECT_TRUE(mentions(e.problems(), "edge.secret_file"));
    EXPECT_TRUE(mentions(e.problems(), "widget.keys_file: '" + ring.path() + "' line 1"));
    EXPECT_TRUE(mentions(e.problems(), "line 3: duplicate key id 'k1'"));
  }
  config c;
  c.edge.secret_file = "/nonexistent/edge.secret";
  c.widget.keys_file = "/nonexistent/widget.keys";
  try {
    load_secrets(c, {});
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_TRUE(mentions(e.problems(), "widget.keys_file: cannot read '/nonexistent/widget.keys'"));
  }
}

TEST(Config, AKeyRingOnReloadListsItsProblemsWithoutItsSecrets) {
  temp_file ring("k1 " + std::string(32, 'a') + "\nk2 tiny-secret-xyz\n");
  const auto read = read_key_ring(ring.path(), "widget.keys_file");
  ASSERT_EQ(read.problems.size(), 1u);
  EXPECT_NE(read.problems[0].find("widget.keys_file: '" + ring.path() + "' line 2"),
            std::string::npos)
      << read.problems[0];
  EXPECT_EQ(read.problems[0].find("tiny-secret-xyz"), std::string::npos);  // never quoted
  EXPECT_FALSE(read_key_ring("/nonexistent/widget.keys", "widget.keys_file").problems.empty());
  temp_file good("k1 " + std::string(32, 'a') + "\n");
  EXPECT_EQ(read_key_ring(good.path(), "widget.keys_file").keys.back().kid, "k1");
}

TEST(Config, AnUpstreamCaFileMustBeReadableToServe) {
  temp_file edge(std::string(40, 's'));
  config c;
  c.edge.secret_file = edge.path();
  c.llm.provider = "openai";
  c.llm.ca_file = "/nonexistent/upstream-ca.pem";
  try {
    load_secrets(c, {});
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_EQ(e.problems()[0], "llm.ca_file: cannot read '/nonexistent/upstream-ca.pem'");
  }
  // parsing alone (every CLI command) does not need the file
  EXPECT_EQ(parse("llm: {ca_file: /nonexistent/upstream-ca.pem}\n", {}).llm.ca_file,
            "/nonexistent/upstream-ca.pem");
}

}  // namespace
}  // namespace parley::config

#include "store/db.hpp"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "store/commit_group.hpp"
#include "store/text_guard.hpp"

namespace parley::store {
namespace {

// The most writes one transaction commits (commit_group).
constexpr std::size_t max_group_writes = 64;

// A server's error that a write's own statements or values cause (data, integrity,
// syntax or access, RLS's check, a trigger's RAISE): that write fails alone. The
// others (a deadlock, a shutdown, a full disk) are no one write's doing.
bool caused_by_the_write(const db_error& e) {
  const auto error_class = std::string_view(e.sqlstate()).substr(0, 2);
  return error_class == "22" || error_class == "23" || error_class == "42" || error_class == "44" ||
         error_class == "P0";
}

// A transaction the server rolled back for a reason of the moment (deadlock,
// serialization failure): its writes can be committed again.
bool rolled_back_for_now(const db_error& e) { return e.sqlstate().starts_with("40"); }

std::string connection_message(PGconn* conn) {
  std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

// libpq prints notices ("relation ... already exists, skipping") to stderr by default,
// which would break the JSON-line log. Runs inside libpq: must not throw.
void log_notice(void*, const char* message) noexcept {
  std::string text = message ? message : "";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  obs::debug("db_notice", {{"message", text}});
}

result checked(PGconn* conn, PGresult* raw) {
  result res(raw);
  if (raw == nullptr) throw db_error(connection_message(conn), "");
  const auto status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return res;
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  std::string msg = PQresultErrorMessage(raw);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  throw db_error(msg, state ? state : "");
}

// Elements of a one-dimensional text array literal: {a,"b c",NULL}.
std::vector<std::string> parse_text_array(std::string_view s) {
  std::vector<std::string> out;
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') {
    throw db_error("not an array value: " + std::string(s), "");
  }
  s = s.substr(1, s.size() - 2);
  std::size_t i = 0;
  while (i < s.size()) {
    std::string item;
    if (s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        item += s[i];
      }
      ++i;  // closing quote
    } else {
      const auto comma = s.find(',', i);
      item = std::string(s.substr(i, comma == std::string_view::npos ? s.size() - i : comma - i));
      i = comma == std::string_view::npos ? s.size() : comma;
    }
    out.push_back(std::move(item));
    if (i < s.size() && s[i] == ',') ++i;
  }
  return out;
}

// Parameters as libpq takes them. A NUL in a text parameter is refused here with
// 22021, what PostgreSQL itself says of a NUL in text.
struct wire_params {
  explicit wire_params(std::span<const param> params) {
    values.reserve(params.size());
    lengths.reserve(params.size());
    formats.reserve(params.size());
    for (const auto& p : params) {
      if (!p.binary() && p.value() && has_nul(*p.value())) {
        throw db_error("text parameter $" + std::to_string(values.size() + 1) +
                           " contains a NUL byte, which PostgreSQL text cannot hold",
                       "22021");
      }
      values.push_back(p.value() ? p.value()->data() : nullptr);
      lengths.push_back(p.value() ? static_cast<int>(p.value()->size()) : 0);
      formats.push_back(p.binary() ? 1 : 0);
    }
  }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

}  // namespace

// Statements prepared on one connection, by their SQL text. PostgreSQL then skips
// parsing and planning a statement the connection runs again: most of the cost of
// the engine's short statements. Bounded, so that SQL built at run time cannot grow
// it without end; past the bound, statements run unprepared.
class statement_cache {
 public:
  static constexpr std::size_t capacity = 256;

  // The name `sql` is prepared under, preparing it now on its first use; nullptr
  // when the cache is full. Throws db_error when PostgreSQL refuses the statement.
  const char* name_for(PGconn* conn, std::string_view sql, int param_count) {
    const std::string key(sql);
    if (const auto it = names_.find(key); it != names_.end()) return it->second.c_str();
    if (names_.size() >= capacity) return nullptr;
    std::string name = "parley_" + std::to_string(names_.size());
    checked(conn, PQprepare(conn, name.c_str(), key.c_str(), param_count, nullptr));
    return names_.emplace(key, std::move(name)).first->second.c_str();
  }

  // The name `sql` was prepared under, or nullptr.
  const char* prepared_name(std::string_view sql) const {
    const auto it = names_.find(std::string(sql));
    return it == names_.end() ? nullptr : it->second.c_str();
  }

 private:
  std::unordered_map<std::string, std::string> names_;
};

db_error::db_error(const std::string& message, std::string sqlstate)
    : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}

// ---- param -------------------------------------------------------------------------

param::param(double value) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  value_ = std::string(buf, ec == std::errc{} ? end : buf);
}

param::param(const std::vector<std::string>& array) {
  std::string out = "{";
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : array[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  value_ = std::move(out);
}

param param::bytea(std::span<const std::byte> bytes) {
  param p(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  p.binary_ = true;
  return p;
}

// ---- result ------------------------------------------------------------------------

int result::rows() const noexcept { return res_ ? PQntuples(res_.get()) : 0; }

std::int64_t result::affected() const {
  const char* n = PQcmdTuples(res_.get());
  std::int64_t v = 0;
  if (n && *n) std::from_chars(n, n + std::strlen(n), v);
  return v;
}

int result::column(std::string_view name) const {
  const int col = PQfnumber(res_.get(), std::string(name).c_str());
  if (col < 0) throw db_error("no column named " + std::string(name) + " in the result", "");
  return col;
}

bool result::is_null(int row, int col) const {
  if (row < 0 || row >= rows() || col < 0 || col >= PQnfields(res_.get())) {
    throw db_error("result cell out of range", "");
  }
  return PQgetisnull(res_.get(), row, col) == 1;
}

std::string_view result::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return {PQgetvalue(res_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

std::optional<std::string> result::opt_str(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return str(row, col);
}

std::int64_t result::i64(int row, int col) const {
  const auto t = text(row, col);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size()) {
    throw db_error("not an integer: '" + std::string(t) + "'", "");
  }
  return v;
}

std::optional<std::int64_t> result::opt_i64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return i64(row, col);
}

bool result::boolean(int row, int col) const {
  const auto t = text(row, col);
  if (t == "t") return true;
  if (t == "f") return false;
  throw db_error("not a boolean: '" + std::string(t) + "'", "");
}

std::string result::bytea(int row, int col) const {
  if (is_null(row, col)) return {};
  std::size_t len = 0;
  unsigned char* raw = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(res_.get(), row, col)), &len);
  if (raw == nullptr) throw db_error("cannot decode a bytea value", "");
  std::string out(reinterpret_cast<const char*>(raw), len);
  PQfreemem(raw);
  return out;
}

std::vector<std::string> result::text_array(int row, int col) const {
  if (is_null(row, col)) return {};
  return parse_text_array(text(row, col));
}

// ---- transaction -------------------------------------------------------------------

result transaction::exec(std::string_view sql, std::initializer_list<param> params) {
  return exec(sql, std::span<const param>(params.begin(), params.size()));
}

result transaction::exec(std::string_view sql, std::span<const param> params) {
  const wire_params wire(params);
  const int count = static_cast<int>(params.size());
  if (count > 0) {
    if (const char* name = statements_.name_for(conn_, sql, count)) {
      return checked(conn_, PQexecPrepared(conn_, name, count, wire.values.data(),
                                           wire.lengths.data(), wire.formats.data(), 0));
    }
  }
  const std::string text(sql);
  return checked(conn_, PQexecParams(conn_, text.c_str(), count, nullptr, wire.values.data(),
                                     wire.lengths.data(), wire.formats.data(), 0));
}

void transaction::exec_script(std::string_view sql) {
  const std::string text(sql);
  checked(conn_, PQexec(conn_, text.c_str()));
}

// ---- pool --------------------------------------------------------------------------

// A connection of the pool, with the statements prepared on it.
struct database::pooled_connection {
  explicit pooled_connection(PGconn* c) noexcept : conn(c) {}
  ~pooled_connection() { PQfinish(conn); }
  pooled_connection(const pooled_connection&) = delete;
  pooled_connection& operator=(const pooled_connection&) = delete;

  PGconn* conn;
  statement_cache statements;
};

class database::connection_pool {
 public:
  connection_pool(std::string dsn, unsigned size) : dsn_(std::move(dsn)), size_(size) {}

  // Waits while every connection is in use; opens a new one below the bound.
  std::unique_ptr<pooled_connection> acquire() {
    std::unique_lock lock(mutex_);
    const auto asked = std::chrono::steady_clock::now();
    available_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    obs::metrics::db_pool_wait(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count());
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    lock.unlock();
    PGconn* c = PQconnectdb(dsn_.c_str());
    if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
      const std::string msg = "cannot connect to PostgreSQL: " + connection_message(c);
      PQfinish(c);
      forget();
      throw db_error(msg, "");
    }
    PQsetNoticeProcessor(c, log_notice, nullptr);
    return std::make_unique<pooled_connection>(c);
  }

  // Healthy connections go back to the pool; broken ones are closed.
  void release(std::unique_ptr<pooled_connection> c) {
    if (PQstatus(c->conn) != CONNECTION_OK || PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
      discard(std::move(c));
      return;
    }
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(c));
    }
    available_.notify_one();
  }

  void discard(std::unique_ptr<pooled_connection> c) {
    c.reset();
    forget();
  }

 private:
  void forget() {
    {
      std::lock_guard lock(mutex_);
      --open_;
    }
    available_.notify_one();
  }

  std::string dsn_;
  unsigned size_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pooled_connection>> idle_;
  unsigned open_ = 0;
};

database::database(std::string dsn, unsigned pool_size)
    : pool_(std::make_unique<connection_pool>(std::move(dsn), pool_size)),
      threads_(pool_size),
      group_(std::make_unique<commit_group>(
          threads_, [this](std::vector<pending_write>& writes) { commit_writes(writes); },
          max_group_writes, std::max(1U, pool_size / 4))) {}

database::~database() { threads_.join(); }

// A pooled connection for one transaction: given back when it ends, rolled back
// first if the transaction did not end.
class database::lease {
 public:
  lease(connection_pool& pool, std::unique_ptr<pooled_connection> pooled)
      : pool_(pool), pooled_(std::move(pooled)) {}
  ~lease() {
    PGconn* conn = pooled_->conn;
    if (PQtransactionStatus(conn) == PQTRANS_INTRANS ||
        PQtransactionStatus(conn) == PQTRANS_INERROR) {
      PQclear(PQexec(conn, "ROLLBACK"));
    }
    pool_.release(std::move(pooled_));
  }
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;

  PGconn* conn() const noexcept { return pooled_->conn; }
  statement_cache& statements() noexcept { return pooled_->statements; }

 private:
  connection_pool& pool_;
  std::unique_ptr<pooled_connection> pooled_;
};

void database::run_transaction(std::string_view tenant_id,
                               const std::function<void(transaction&)>& body) {
  // A pooled connection may have died with a database restart; BEGIN finds out before
  // anything ran, so one retry on a fresh connection is safe and makes it transparent.
  for (int attempt = 0;; ++attempt) {
    lease leased(*pool_, pool_->acquire());
    PGconn* conn = leased.conn();
    transaction tx(conn, leased.statements());
    try {
      tx.exec("BEGIN");
    } catch (const db_error&) {
      if (attempt == 0 && PQstatus(conn) != CONNECTION_OK) continue;
      throw;
    }
    if (!tenant_id.empty()) {
      tx.exec("SELECT set_config('parley.tenant_id', $1, true)", {tenant_id});
    }
    body(tx);
    tx.exec("COMMIT");
    return;
  }
}

std::unique_ptr<database::pooled_connection> database::acquire_live() {
  // Each dead connection is closed, so this ends at the latest with a fresh one.
  for (;;) {
    auto pooled = pool_->acquire();
    pollfd p{PQsocket(pooled->conn), POLLIN, 0};
    // An idle connection has nothing to read unless its server went away (EOF, or
    // the message of a terminated backend).
    if (p.fd >= 0 && ::poll(&p, 1, 0) == 0) return pooled;
    pool_->discard(std::move(pooled));
  }
}

namespace {

// Sends one statement of a pipeline, prepared when the connection has it.
void send_statement(PGconn* conn, statement_cache& statements, std::string_view sql,
                    const wire_params& wire) {
  const int count = static_cast<int>(wire.values.size());
  const char* name = count > 0 ? statements.prepared_name(sql) : nullptr;
  const int sent =
      name != nullptr
          ? PQsendQueryPrepared(conn, name, count, wire.values.data(), wire.lengths.data(),
                                wire.formats.data(), 0)
          : PQsendQueryParams(conn, std::string(sql).c_str(), count, nullptr, wire.values.data(),
                              wire.lengths.data(), wire.formats.data(), 0);
  if (sent == 0) throw db_error(connection_message(conn), "");
}

// Reads one statement's result off the pipeline: its rows, or nothing once a
// statement failed (the first failure is kept).
std::optional<result> read_result(PGconn* conn, std::optional<db_error>& failure) {
  PGresult* raw = PQgetResult(conn);
  if (raw == nullptr) {
    if (!failure) failure.emplace(connection_message(conn), "");
    return std::nullopt;
  }
  std::optional<result> out;
  if (!failure && PQresultStatus(raw) != PGRES_PIPELINE_ABORTED) {
    try {
      out.emplace(checked(conn, raw));  // takes ownership
    } catch (db_error& e) {
      failure.emplace(std::move(e));
    }
    raw = nullptr;
  }
  PQclear(raw);
  PQclear(PQgetResult(conn));  // the null that ends this statement's results
  return out;
}

}  // namespace

void database::write(std::string_view tenant_id, const write_batch& batch) {
  run_batch(tenant_id, batch);
}

result database::write_returning(std::string_view tenant_id, const write_batch& batch) {
  if (batch.empty()) throw db_error("write_returning without a statement", "");
  if (batch.has_last()) throw db_error("write_returning with a statement run last", "");
  return std::move(*run_batch(tenant_id, batch));
}

std::optional<result> database::run_batch(std::string_view tenant_id, const write_batch& batch) {
  const tenant_write write{tenant_id, batch};
  std::optional<std::size_t> failed;
  return run_writes({&write, 1}, failed);
}

std::optional<result> database::run_writes(std::span<const tenant_write> writes,
                                           std::optional<std::size_t>& failed) {
  failed.reset();
  const std::string_view set_tenant = "SELECT set_config('parley.tenant_id', $1, true)";
  // Parameters are converted (and a NUL in text refused) before anything is sent.
  std::vector<param> tenant_ids;
  tenant_ids.reserve(writes.size());  // the wire forms point into these
  std::vector<wire_params> tenants;
  std::vector<std::vector<wire_params>> wires(writes.size());
  for (std::size_t w = 0; w < writes.size(); ++w) {
    try {
      if (writes[w].tenant_id.empty()) throw db_error("tenant transaction without a tenant id", "");
      tenants.emplace_back(
          std::span<const param>(&tenant_ids.emplace_back(writes[w].tenant_id), 1));
      wires[w].reserve(writes[w].batch.statements_.size());
      for (const auto& s : writes[w].batch.statements_) wires[w].emplace_back(s.params);
    } catch (const db_error&) {
      failed = w;
      throw;
    }
  }
  lease leased(*pool_, acquire_live());
  PGconn* conn = leased.conn();
  auto& statements = leased.statements();
  // Preparing is a round trip of its own: done before the pipeline, once a connection.
  statements.name_for(conn, set_tenant, 1);
  for (std::size_t w = 0; w < writes.size(); ++w) {
    try {
      for (const auto& s : writes[w].batch.statements_) {
        if (!s.params.empty()) statements.name_for(conn, s.sql, static_cast<int>(s.params.size()));
      }
    } catch (const db_error& e) {
      if (caused_by_the_write(e)) failed = w;
      throw;
    }
  }
  // The order the statements run in: each write's, then each write's last ones.
  struct step {
    std::size_t write;
    bool last;
  };
  std::vector<step> steps;
  for (std::size_t w = 0; w < writes.size(); ++w) steps.push_back({w, false});
  for (std::size_t w = 0; w < writes.size(); ++w) {
    if (writes[w].batch.has_last()) steps.push_back({w, true});
  }
  // A send that fails leaves half a pipeline unsynced: the lease then closes the
  // connection instead of pooling it.
  const wire_params none({});
  if (PQenterPipelineMode(conn) == 0) throw db_error(connection_message(conn), "");
  send_statement(conn, statements, "BEGIN", none);
  for (const auto& step : steps) {
    send_statement(conn, statements, set_tenant, tenants[step.write]);
    const auto& batch = writes[step.write].batch.statements_;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].last == step.last) {
        send_statement(conn, statements, batch[i].sql, wires[step.write][i]);
      }
    }
  }
  send_statement(conn, statements, "COMMIT", none);
  if (PQpipelineSync(conn) == 0) throw db_error(connection_message(conn), "");

  std::optional<db_error> failure;
  std::optional<result> last;  // of the statement run last
  read_result(conn, failure);  // BEGIN
  for (const auto& step : steps) {
    const bool failed_before = failure.has_value();
    read_result(conn, failure);  // the tenant
    for (const auto& s : writes[step.write].batch.statements_) {
      if (s.last == step.last) last = read_result(conn, failure);
    }
    if (!failed_before && failure && caused_by_the_write(*failure)) failed = step.write;
  }
  read_result(conn, failure);  // COMMIT
  PQclear(PQgetResult(conn));  // the sync point
  PQexitPipelineMode(conn);
  if (failure) throw *failure;
  return last;
}

asio::awaitable<void> database::async_write(std::string tenant_id, write_batch batch) {
  auto initiate = [this, &tenant_id, &batch](auto handler) {
    // Keep the caller's executor alive until the outcome is posted back to it.
    auto home = asio::prefer(asio::get_associated_executor(handler),
                             asio::execution::outstanding_work.tracked);
    auto waiting = std::make_shared<decltype(handler)>(std::move(handler));
    group_->submit({std::move(tenant_id), std::move(batch),
                    [waiting, home = std::move(home)](std::exception_ptr error) {
                      asio::post(home, [waiting, error] { (*waiting)(error); });
                    }});
  };
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
      std::move(initiate), asio::use_awaitable);
}

void database::commit_writes(std::vector<pending_write>& writes) noexcept {
  std::vector<tenant_write> parts;
  parts.reserve(writes.size());
  for (const auto& w : writes) parts.push_back({w.tenant_id, w.batch});
  std::optional<std::size_t> failed;
  std::exception_ptr error;
  bool retry_alone = false;
  try {
    run_writes(parts, failed);
  } catch (const db_error& e) {
    error = std::current_exception();
    retry_alone = rolled_back_for_now(e) && writes.size() > 1;
  } catch (...) {
    error = std::current_exception();
  }
  if (!error) obs::metrics::db_commit_group(writes.size());
  if (error && failed && writes.size() > 1) {
    // The others were rolled back with it, through no fault of theirs: they commit
    // again without it.
    writes[*failed].done(error);
    writes.erase(writes.begin() + static_cast<std::ptrdiff_t>(*failed));
    commit_writes(writes);
    return;
  }
  if (retry_alone) {
    // Rolled back by a deadlock with a transaction outside the group: each write
    // gets its own outcome in a transaction of its own.
    for (auto& w : writes) {
      std::vector<pending_write> alone;
      alone.push_back(std::move(w));
      commit_writes(alone);
    }
    return;
  }
  // done only posts to the caller's executor; if even that fails (out of memory),
  // noexcept ends the process rather than leave a caller waiting forever.
  for (auto& w : writes) w.done(error);
}

asio::awaitable<result> database::async_write_returning(std::string tenant_id, write_batch batch) {
  auto job = [this, tenant_id = std::move(tenant_id), batch = std::move(batch)] {
    return write_returning(tenant_id, batch);
  };
  co_return co_await async(std::move(job));
}

}  // namespace parley::store

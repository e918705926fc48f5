#pragma once

// PostgreSQL access: a bounded pool of libpq connections, transactions scoped to a
// tenant (RLS) or to the platform, and an awaitable bridge that runs such a call on
// a small DB thread pool and resumes the caller on its own executor, so a DB call
// never blocks an Asio loop thread.
//
//   auto agents = co_await db.async_tenant(tenant_id, [&](store::transaction& tx) {
//     return tx.exec("SELECT code FROM agents WHERE is_enabled", {});
//   });
//
// g++ 12 pitfall: a lambda with non-trivial captures written directly inside a
// co_await expression is destroyed twice (heap corruption). Name it first:
//   auto job = [id = std::string(x)](store::transaction& tx) { ... };
//   auto r = co_await db.async_platform(std::move(job));
//
// Every statement on a per-tenant table must run inside with_tenant/async_tenant:
// the transaction first runs SELECT set_config('parley.tenant_id', $1, true), and the
// RLS policies compare each row's tenant_id with that setting.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <libpq-fe.h>

#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/offload.hpp"

namespace parley::store {

namespace asio = boost::asio;

// A failed connection or statement. `sqlstate` is PostgreSQL's five-character code
// ("23505" unique violation, ...) or empty when the failure was not a server error.
class db_error : public std::runtime_error {
 public:
  db_error(const std::string& message, std::string sqlstate);
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  bool is_unique_violation() const noexcept { return sqlstate_ == "23505"; }

 private:
  std::string sqlstate_;
};

// One statement parameter, sent as text ($1, $2, ...) unless made with bytea().
class param {
 public:
  param(std::nullptr_t) {}  // SQL NULL
  param(std::string_view text) : value_(std::string(text)) {}
  param(const std::string& text) : value_(text) {}
  param(std::string&& text) : value_(std::move(text)) {}
  param(const char* text) : value_(std::string(text)) {}
  param(bool value) : value_(value ? "t" : "f") {}
  param(double value);
  template <std::integral T>
  requires(!std::same_as<T, bool>) param(T value) : value_(std::to_string(value)) {}
  template <class T>
  param(const std::optional<T>& value) {
    if (value) *this = param(*value);
  }
  // A text[] literal.
  param(const std::vector<std::string>& array);

  // Raw bytes for a bytea column (binary format; embeddings are float32 LE).
  static param bytea(std::span<const std::byte> bytes);

  const std::optional<std::string>& value() const noexcept { return value_; }
  bool binary() const noexcept { return binary_; }

 private:
  std::optional<std::string> value_;
  bool binary_ = false;
};

// A statement's rows, all columns in text format. Accessors throw db_error on a
// missing column or a value of the wrong shape.
class result {
 public:
  explicit result(PGresult* res) noexcept : res_(res) {}

  int rows() const noexcept;
  bool empty() const noexcept { return rows() == 0; }
  std::int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE
  int column(std::string_view name) const;

  bool is_null(int row, int col) const;
  std::string_view text(int row, int col) const;  // "" for NULL
  std::string str(int row, int col) const { return std::string(text(row, col)); }
  std::optional<std::string> opt_str(int row, int col) const;
  std::int64_t i64(int row, int col) const;
  std::optional<std::int64_t> opt_i64(int row, int col) const;
  bool boolean(int row, int col) const;
  std::string bytea(int row, int col) const;  // decoded raw bytes
  std::vector<std::string> text_array(int row, int col) const;

  bool is_null(int row, std::string_view col) const { return is_null(row, column(col)); }
  std::string_view text(int row, std::string_view col) const { return text(row, column(col)); }
  std::string str(int row, std::string_view col) const { return str(row, column(col)); }
  std::optional<std::string> opt_str(int row, std::string_view col) const {
    return opt_str(row, column(col));
  }
  std::int64_t i64(int row, std::string_view col) const { return i64(row, column(col)); }
  std::optional<std::int64_t> opt_i64(int row, std::string_view col) const {
    return opt_i64(row, column(col));
  }
  bool boolean(int row, std::string_view col) const { return boolean(row, column(col)); }
  std::string bytea(int row, std::string_view col) const { return bytea(row, column(col)); }
  std::vector<std::string> text_array(int row, std::string_view col) const {
    return text_array(row, column(col));
  }

 private:
  struct clear {
    void operator()(PGresult* res) const noexcept { PQclear(res); }
  };
  std::unique_ptr<PGresult, clear> res_;
};

// The statements prepared on one pooled connection (db.cpp).
class statement_cache;

// An open transaction on a pooled connection. Only made by database.
class transaction {
 public:
  transaction(PGconn* conn, statement_cache& statements) noexcept
      : conn_(conn), statements_(statements) {}
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  // A statement with parameters is prepared on its connection the first time it
  // runs there, and only executed after that.
  result exec(std::string_view sql, std::initializer_list<param> params = {});
  result exec(std::string_view sql, std::span<const param> params);

  // Several ';'-separated statements without parameters (trusted SQL: migrations).
  void exec_script(std::string_view sql);

 private:
  PGconn* conn_;
  statement_cache& statements_;
};

// Writes whose results nobody reads, run by database::write as one transaction sent
// in one round trip (libpq's pipeline mode) instead of one round trip a statement.
// The SQL must outlive the batch (repositories pass literals).
class write_batch {
 public:
  void add(std::string_view sql, std::initializer_list<param> params) {
    statements_.push_back({sql, std::vector<param>(params), false});
  }
  // A statement on a row that many transactions update (a tenant's spend): it runs
  // after every other statement of its transaction, its group's included, so that
  // the row is locked only for the transaction's end.
  void add_last(std::string_view sql, std::initializer_list<param> params) {
    statements_.push_back({sql, std::vector<param>(params), true});
  }
  bool empty() const noexcept { return statements_.empty(); }

 private:
  friend class database;
  bool has_last() const noexcept {
    for (const auto& s : statements_) {
      if (s.last) return true;
    }
    return false;
  }
  struct statement {
    std::string_view sql;
    std::vector<param> params;
    bool last = false;
  };
  std::vector<statement> statements_;
};

class commit_group;
struct pending_write;

class database {
 public:
  // Up to `pool_size` connections to `dsn`, opened on demand, and as many DB threads.
  database(std::string dsn, unsigned pool_size);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // Blocking forms: for the CLI and for code already on a DB thread. fn(tx) runs in a
  // transaction that commits when fn returns and rolls back when it throws. Do not
  // nest them: each holds a pooled connection, and the CLI's pool has only one.
  template <class F>
  auto with_tenant(std::string_view tenant_id, F&& fn) -> std::invoke_result_t<F&, transaction&>;
  template <class F>
  auto with_platform(F&& fn) -> std::invoke_result_t<F&, transaction&>;

  // Awaitable forms: fn runs on a DB thread; the coroutine resumes on its executor
  // with fn's result or exception.
  template <class F>
  auto async(F fn) -> asio::awaitable<std::invoke_result_t<F&>>;
  template <class F>
  auto async_tenant(std::string tenant_id, F fn)
      -> asio::awaitable<std::invoke_result_t<F&, transaction&>>;
  template <class F>
  auto async_platform(F fn) -> asio::awaitable<std::invoke_result_t<F&, transaction&>>;

  // Runs the batch in one tenant transaction, all of it in one round trip. Throws
  // db_error with the first failure; nothing is kept then.
  void write(std::string_view tenant_id, const write_batch& batch);
  // The same, committed with the writes of other callers that arrive meanwhile
  // (commit_group.hpp); the batch's own failure is thrown, never another's. Its
  // statements share the transaction with the others': a batch must not change a
  // transaction's settings (set_config(..., true)) besides the tenant.
  asio::awaitable<void> async_write(std::string tenant_id, write_batch batch);
  // The same, answering the rows of the batch's last statement (an UPDATE ...
  // RETURNING that decides something): still one round trip. Refuses a batch with a
  // statement added by add_last, which would run after it.
  result write_returning(std::string_view tenant_id, const write_batch& batch);
  asio::awaitable<result> async_write_returning(std::string tenant_id, write_batch batch);

 private:
  struct pooled_connection;
  class connection_pool;
  class lease;

  // A batch and the tenant it is written for.
  struct tenant_write {
    std::string_view tenant_id;
    const write_batch& batch;
  };

  // The writes in one transaction, sent in one round trip, each after setting its own
  // tenant; the rows of the statement run last, unless there is none. Throws db_error
  // with the first failure, and sets `failed` to the write whose statement or
  // parameter caused it; it stays empty for a failure of no one write's doing (the
  // connection, a deadlock, BEGIN, COMMIT).
  std::optional<result> run_writes(std::span<const tenant_write> writes,
                                   std::optional<std::size_t>& failed);
  std::optional<result> run_batch(std::string_view tenant_id, const write_batch& batch);

  // Commits a group of async_write's writes and tells each its outcome (commit_group).
  void commit_writes(std::vector<pending_write>& writes) noexcept;

  // Runs body in a transaction; tenant_id empty = platform scope.
  void run_transaction(std::string_view tenant_id, const std::function<void(transaction&)>& body);

  template <class F>
  auto transact(std::string_view tenant_id, F& fn) -> std::invoke_result_t<F&, transaction&>;

  // A pooled connection whose server has not hung up (a restart leaves dead ones in
  // the pool): found without a round trip, by a socket that has something to read.
  std::unique_ptr<pooled_connection> acquire_live();

  std::unique_ptr<connection_pool> pool_;
  asio::thread_pool threads_;
  std::unique_ptr<commit_group> group_;
};

// ---- template definitions --------------------------------------------------------

template <class F>
auto database::transact(std::string_view tenant_id, F& fn)
    -> std::invoke_result_t<F&, transaction&> {
  using R = std::invoke_result_t<F&, transaction&>;
  if constexpr (std::is_void_v<R>) {
    run_transaction(tenant_id, [&](transaction& tx) { fn(tx); });
  } else {
    std::optional<R> out;
    run_transaction(tenant_id, [&](transaction& tx) { out.emplace(fn(tx)); });
    return std::move(*out);
  }
}

template <class F>
auto database::with_tenant(std::string_view tenant_id, F&& fn)
    -> std::invoke_result_t<F&, transaction&> {
  if (tenant_id.empty()) throw db_error("tenant transaction without a tenant id", "");
  return transact(tenant_id, fn);
}

template <class F>
auto database::with_platform(F&& fn) -> std::invoke_result_t<F&, transaction&> {
  return transact({}, fn);
}

template <class F>
auto database::async(F fn) -> asio::awaitable<std::invoke_result_t<F&>> {
  return base::offload(threads_, std::move(fn));
}

template <class F>
auto database::async_tenant(std::string tenant_id, F fn)
    -> asio::awaitable<std::invoke_result_t<F&, transaction&>> {
  // Named, not a temporary inside co_await: g++ 12 destroys a capturing lambda
  // temporary of a co_await expression twice.
  auto job = [this, tenant_id = std::move(tenant_id), fn = std::move(fn)]() mutable {
    return with_tenant(tenant_id, fn);
  };
  co_return co_await async(std::move(job));
}

template <class F>
auto database::async_platform(F fn) -> asio::awaitable<std::invoke_result_t<F&, transaction&>> {
  auto job = [this, fn = std::move(fn)]() mutable { return with_platform(fn); };
  co_return co_await async(std::move(job));
}

}  // namespace parley::store

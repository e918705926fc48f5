#pragma once

// Each tenant's agents, knowledge version, budgets and own provider credentials, kept in memory so
// that a turn reaches the LLM without a database round trip. The tenant's entry is dropped when a
// notification says its state changed (store/change_listener.hpp, migration 0003),
// and nothing is kept while the listener is not live: a change made on any engine,
// or with the CLI, takes effect at the next request everywhere.
//
// A load that raced a change (it began before the change's notification arrived) is
// returned to its caller but not kept.

#include <utility>  // before Asio under g++ 12 / Boost 1.74

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/sealed_box.hpp"
#include "store/agent_repo.hpp"
#include "store/spend_repo.hpp"

namespace parley::store {
class database;
}

namespace parley::chat {

namespace asio = boost::asio;

struct tenant_state {
  std::int64_t knowledge_version = 0;
  store::budgets budgets;            // none set: calls reserve nothing before they start
  std::vector<store::agent> agents;  // enabled or not
  // The tenant's own provider credentials, opened, by provider name: nullopt when
  // this engine's master keys cannot open one (its key left the ring, or the row was
  // altered), which fails the tenant's calls to that provider rather than using the
  // operator's key.
  std::map<std::string, std::optional<std::string>, std::less<>> credentials;

  // The enabled agent with this code, or nullptr.
  const store::agent* enabled_agent(std::string_view code) const noexcept;
};

class tenant_states {
 public:
  // Keeps at most `capacity` tenants (an arbitrary one is dropped to make room).
  // Credentials are opened with `credentials`, which must outlive this.
  tenant_states(store::database& db, std::size_t capacity, const base::sealed_box& credentials);

  // The tenant's state: from memory, else read in one short tenant transaction.
  asio::awaitable<std::shared_ptr<const tenant_state>> get(const std::string& tenant_id);

  // From the listener's thread.
  void invalidate(std::string_view tenant_id);
  void set_live(bool live);
  // Every tenant is read again (the master key ring changed).
  void forget_all();

 private:
  std::shared_ptr<const tenant_state> cached(const std::string& tenant_id, std::uint64_t& epoch);
  void keep(const std::string& tenant_id, std::shared_ptr<const tenant_state> state,
            std::uint64_t epoch);

  store::database& db_;
  std::size_t capacity_;
  const base::sealed_box& credentials_;
  std::mutex mutex_;
  bool live_ = false;
  std::uint64_t epoch_ = 0;  // advanced by every change: a load older than it is not kept
  std::unordered_map<std::string, std::shared_ptr<const tenant_state>> states_;
};

}  // namespace parley::chat

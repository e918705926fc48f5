#include "chat/tenant_states.hpp"

#include "store/credential_repo.hpp"
#include "store/db.hpp"
#include "store/knowledge_repo.hpp"

namespace parley::chat {

const store::agent* tenant_state::enabled_agent(std::string_view code) const noexcept {
  for (const auto& a : agents) {
    if (a.code == code) return a.is_enabled ? &a : nullptr;
  }
  return nullptr;
}

tenant_states::tenant_states(store::database& db, std::size_t capacity,
                             const base::sealed_box& credentials)
    : db_(db), capacity_(capacity), credentials_(credentials) {}

asio::awaitable<std::shared_ptr<const tenant_state>> tenant_states::get(
    const std::string& tenant_id) {
  std::uint64_t epoch = 0;
  if (auto hit = cached(tenant_id, epoch)) co_return hit;
  auto read = [this, tenant_id](store::transaction& tx) {
    auto state = std::make_shared<tenant_state>();
    state->agents = store::list_agents(tx, false);
    state->knowledge_version = store::knowledge_version(tx, tenant_id);
    state->budgets = store::read_budgets(tx, tenant_id);
    for (const auto& c : store::list_credentials(tx)) {
      state->credentials.emplace(
          c.provider,
          credentials_.open(c.sealed, store::credential_context(tenant_id, c.provider)));
    }
    return std::shared_ptr<const tenant_state>(std::move(state));
  };
  auto state = co_await db_.async_tenant(tenant_id, std::move(read));
  keep(tenant_id, state, epoch);
  co_return state;
}

std::shared_ptr<const tenant_state> tenant_states::cached(const std::string& tenant_id,
                                                          std::uint64_t& epoch) {
  std::lock_guard lock(mutex_);
  epoch = epoch_;
  const auto it = states_.find(tenant_id);
  return it == states_.end() ? nullptr : it->second;
}

void tenant_states::keep(const std::string& tenant_id, std::shared_ptr<const tenant_state> state,
                         std::uint64_t epoch) {
  std::lock_guard lock(mutex_);
  if (!live_ || epoch != epoch_) return;
  if (states_.size() >= capacity_ && !states_.contains(tenant_id)) states_.erase(states_.begin());
  states_[tenant_id] = std::move(state);
}

void tenant_states::invalidate(std::string_view tenant_id) {
  std::lock_guard lock(mutex_);
  ++epoch_;
  states_.erase(std::string(tenant_id));
}

void tenant_states::forget_all() {
  std::lock_guard lock(mutex_);
  ++epoch_;
  states_.clear();
}

void tenant_states::set_live(bool live) {
  std::lock_guard lock(mutex_);
  ++epoch_;
  live_ = live;
  states_.clear();
}

}  // namespace parley::chat

// parley credential set --tenant SLUG --provider P     (the key from stdin)
// parley credential delete --tenant SLUG --provider P
// parley credential list --tenant SLUG
// parley rotate-master-key
//
// A tenant's own provider key is read from stdin, never from the command line
// (where `ps` and shell history would show it), without echo on a terminal, and
// sealed at once with the master key ring (llm.master_keys_file). Rotation: append
// a key to the ring, reload every engine (SIGHUP) so they can open what it seals,
// then run rotate-master-key; the old key may leave the ring once it reports no
// credential left on it.

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/admin_session.hpp"

namespace parley::cli {
namespace {

// Echo off while a person types the key; restored however the read ends.
class hidden_input {
 public:
  hidden_input() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~hidden_input() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  hidden_input(const hidden_input&) = delete;
  hidden_input& operator=(const hidden_input&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

std::string read_key(const std::string& provider) {
  std::string key;
  if (::isatty(STDIN_FILENO) != 0) {
    std::cerr << "API key for " << provider << ": " << std::flush;
    const hidden_input quiet;
    std::getline(std::cin, key);
    std::cerr << '\n';
  } else {
    key.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

int set(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "provider"});
  const std::string slug = inv.opts.require("tenant");
  const std::string provider = inv.opts.require("provider");
  admin_session session(inv, admin_session::keys::read);
  const auto stored = session.credentials().put(slug, provider, read_key(provider));
  inv.out.result(admin::to_json(stored),
                 fmt::format("stored tenant {}'s credential for {} (sealed with master key {})",
                             slug, provider, stored.sealed.key_id));
  return 0;
}

int remove(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant", "provider"});
  const std::string slug = inv.opts.require("tenant");
  const std::string provider = inv.opts.require("provider");
  admin_session(inv).credentials().remove(slug, provider);
  inv.out.result({{"tenant", slug}, {"provider", provider}, {"deleted", true}},
                 fmt::format("deleted tenant {}'s credential for {}", slug, provider));
  return 0;
}

int list(const invocation& inv) {
  inv.opts.allow_only({"config", "json", "tenant"});
  const std::string slug = inv.opts.require("tenant");
  const auto stored = admin_session(inv).credentials().list(slug);
  nlohmann::json data = nlohmann::json::array();
  std::string human = fmt::format("{:<24} {:<16} {}\n", "PROVIDER", "MASTER KEY", "UPDATED");
  for (const auto& c : stored) {
    data.push_back(admin::to_json(c));
    human += fmt::format("{:<24} {:<16} {}\n", c.provider, c.sealed.key_id, c.updated_unix);
  }
  inv.out.result({{"tenant", slug}, {"credentials", data}}, human);
  return 0;
}

}  // namespace

int credential(const invocation& inv) {
  const auto& verb = inv.opts.positional();
  if (verb.size() == 1 && verb[0] == "set") return set(inv);
  if (verb.size() == 1 && verb[0] == "delete") return remove(inv);
  if (verb.size() == 1 && verb[0] == "list") return list(inv);
  throw usage_error("expected 'credential set', 'credential delete' or 'credential list'");
}

int rotate_master_key(const invocation& inv) {
  inv.opts.allow_only({"config", "json"});
  admin_session session(inv, admin_session::keys::read);
  const auto r = session.credentials().reseal_all();
  inv.out.result({{"resealed", r.resealed}, {"current", r.current}, {"unopenable", r.unopenable}},
                 fmt::format("{} credentials sealed again with the newest master key, {} already "
                             "were, {} could not be opened",
                             r.resealed, r.current, r.unopenable));
  return r.unopenable == 0 ? 0 : 1;
}

}  // namespace parley::cli

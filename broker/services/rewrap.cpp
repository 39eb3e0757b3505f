#include "broker/services/rewrap.hpp"

#include <pqxx/pqxx>

#include "broker/db/statements.hpp"
#include "shared/db/bytea.hpp"

namespace hydra::broker {
namespace {

constexpr int kBatchSize = 200;

}  // namespace

RewrapCounts rewrap(const std::string& database_url, const crypto::Opener& opener, const crypto::Sealer& sealer) {
  pqxx::connection connection(database_url);
  db::prepareStatements(connection);
  RewrapCounts counts;
  std::string after = "00000000-0000-0000-0000-000000000000";
  while (true) {
    pqxx::work tx(connection);
    const auto rows = tx.exec_prepared("secret_list_to_rewrap", opener.currentKeyId(), after, kBatchSize);
    if (rows.empty()) break;
    for (const auto& row : rows) {
      const std::string connection_id = row["connection_id"].c_str();
      after = connection_id;
      crypto::SealedSecret old;
      old.key_id = row["key_id"].c_str();
      const pqxx::binarystring ciphertext(row["ciphertext"]);
      old.ciphertext.assign(ciphertext.begin(), ciphertext.end());
      const auto aad = crypto::connectionAad(row["customer_id"].c_str(), connection_id);
      try {
        const auto plaintext = opener.open(old, aad);
        const auto fresh = sealer.seal(std::string_view(reinterpret_cast<const char*>(plaintext.data()), plaintext.size()), aad);
        const auto updated = tx.exec_prepared("secret_rewrap", connection_id, fresh.key_id, hydra::db::byteaParam(fresh.ciphertext),
                                              old.key_id, hydra::db::byteaParam(old.ciphertext));
        ++(updated.affected_rows() == 1 ? counts.rewrapped : counts.changed_meanwhile);
      } catch (const crypto::UnknownKeyError&) {
        ++counts.unknown_key;
      } catch (const crypto::OpenError&) {
        ++counts.failed_to_open;
      }
    }
    tx.commit();
  }
  // What was "changed meanwhile" may have been rewritten under an old key again (a control
  // plane not yet switched to the new public key): count what is still not current.
  pqxx::nontransaction check(connection);
  counts.left_over = check.exec_prepared1("secret_count_not_under", opener.currentKeyId())[0].as<long>();
  return counts;
}

}  // namespace hydra::broker

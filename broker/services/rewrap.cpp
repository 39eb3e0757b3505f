#include "broker/services/rewrap.hpp"

#include <pqxx/pqxx>

#include "broker/db/statements.hpp"
#include "shared/db/bytea.hpp"

namespace hydra::broker {
namespace {

constexpr int kBatchSize = 200;

// A column of ciphertexts sealed to the broker: its statements (db/statements.cpp) and the
// associated data that binds each to its row.
struct SealedColumn {
  const char* list;
  const char* rewrap;
  const char* count_not_under;
  std::string (*aad)(std::string_view customer_id, std::string_view row_id);
};

const SealedColumn kSealedColumns[] = {
    {"secret_list_to_rewrap", "secret_rewrap", "secret_count_not_under", crypto::connectionAad},
    {"oauth_client_list_to_rewrap", "oauth_client_rewrap", "oauth_client_count_not_under", crypto::oauthClientAad},
};

void rewrapColumn(pqxx::connection& connection, const SealedColumn& column, const crypto::Opener& opener,
                  const crypto::Sealer& sealer, RewrapCounts& counts) {
  std::string after = "00000000-0000-0000-0000-000000000000";
  while (true) {
    pqxx::work tx(connection);
    const auto rows = tx.exec_prepared(column.list, opener.currentKeyId(), after, kBatchSize);
    if (rows.empty()) break;
    for (const auto& row : rows) {
      const std::string id = row["id"].c_str();
      after = id;
      crypto::SealedSecret old;
      old.key_id = row["key_id"].c_str();
      const pqxx::binarystring ciphertext(row["ciphertext"]);
      old.ciphertext.assign(ciphertext.begin(), ciphertext.end());
      const auto aad = column.aad(row["customer_id"].c_str(), id);
      try {
        const auto plaintext = opener.open(old, aad);
        const auto fresh = sealer.seal(std::string_view(reinterpret_cast<const char*>(plaintext.data()), plaintext.size()), aad);
        const auto updated = tx.exec_prepared(column.rewrap, id, fresh.key_id, hydra::db::byteaParam(fresh.ciphertext),
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
  counts.left_over += check.exec_prepared1(column.count_not_under, opener.currentKeyId())[0].as<long>();
}

}  // namespace

RewrapCounts rewrap(const std::string& database_url, const crypto::Opener& opener, const crypto::Sealer& sealer) {
  pqxx::connection connection(database_url);
  db::prepareStatements(connection);
  RewrapCounts counts;
  for (const auto& column : kSealedColumns) rewrapColumn(connection, column, opener, sealer, counts);
  return counts;
}

}  // namespace hydra::broker

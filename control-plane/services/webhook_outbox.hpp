#pragma once
// Writing a webhook event to the outbox, in the transaction of the change it describes: the
// event exists if and only if the change committed. Delivery is webhooks/dispatcher.cpp's.

#include <string>

#include <pqxx/pqxx>

namespace hydra::cp {

/// `data_json` is the resource as the API returns it (model::toJson), never a secret.
inline void emitWebhookEvent(pqxx::transaction_base& tx, const std::string& customer_id, const char* event_type,
                             const std::string& data_json) {
  tx.exec_prepared("webhook_event_emit", customer_id, event_type, data_json);
}

}  // namespace hydra::cp

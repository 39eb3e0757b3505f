-- Agent runtimes that connections are granted to.
CREATE TABLE instances (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Target of the grants' composite foreign key: a grant can only join an instance and a
  -- connection of the same customer.
  UNIQUE (customer_id, id)
);
CREATE INDEX instances_customer_idx ON instances (customer_id, created_at);
